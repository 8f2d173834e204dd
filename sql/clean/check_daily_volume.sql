-- The daily volume check of clean.events, per day of [$start, $end): the day's clean events and
-- the share of its rows read from files that arrived after the day following it was over
-- (late), each next to the median of the same weekday over the $weeks weeks before, counting
-- only weekdays that had events (a closed day is no baseline). `latest` marks the latest day
-- with events, which may still be filling up.
WITH counts AS (
    SELECT event_date, count(*) AS events FROM clean.events
    WHERE event_date >= CAST($start AS DATE) - 7 * $weeks AND event_date < $end
    GROUP BY 1
), arrivals AS (
    SELECT d.event_date, sum(d.rows) AS rows_read,
           sum(d.rows) FILTER (WHERE f.arrived_at >= d.event_date + INTERVAL 2 DAY) AS late_rows
    FROM ops.ingested_file_days d JOIN ops.ingested_files f USING (path, sha256)
    WHERE d.event_date >= CAST($start AS DATE) - 7 * $weeks AND d.event_date < $end
    GROUP BY 1
), days AS (
    SELECT CAST(r.day AS DATE) AS event_date, coalesce(c.events, 0) AS events,
           CASE WHEN a.rows_read > 0 THEN coalesce(a.late_rows, 0) / a.rows_read END AS late_share
    FROM range(CAST($start AS DATE) - 7 * $weeks, CAST($end AS DATE), INTERVAL 1 DAY) r(day)
    LEFT JOIN counts c ON c.event_date = CAST(r.day AS DATE)
    LEFT JOIN arrivals a ON a.event_date = CAST(r.day AS DATE)
)
SELECT t.event_date, t.events, t.late_share,
       median(b.events) AS baseline_events,
       median(b.late_share) AS baseline_late_share,
       count(b.event_date) AS baseline_days,
       t.event_date = (SELECT max(event_date) FROM clean.events) AS latest
FROM days t
LEFT JOIN days b ON b.events > 0 AND b.event_date < t.event_date
    AND b.event_date >= t.event_date - 7 * $weeks AND (t.event_date - b.event_date) % 7 = 0
WHERE t.event_date >= $start
GROUP BY t.event_date, t.events, t.late_share
ORDER BY t.event_date;
