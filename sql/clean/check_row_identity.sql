-- Days in [$start, $end) where raw rows <> clean rows + quarantined rows.
WITH r AS (SELECT event_date, count(*) AS n FROM raw.events
           WHERE event_date >= $start AND event_date < $end GROUP BY ALL),
     c AS (SELECT event_date, count(*) AS n FROM clean.events
           WHERE event_date >= $start AND event_date < $end GROUP BY ALL),
     q AS (SELECT event_date, count(*) AS n FROM clean.quarantine
           WHERE event_date >= $start AND event_date < $end GROUP BY ALL)
SELECT event_date, coalesce(r.n, 0) AS raw_rows, coalesce(c.n, 0) AS clean_rows,
       coalesce(q.n, 0) AS quarantined_rows
FROM r FULL JOIN c USING (event_date) FULL JOIN q USING (event_date)
WHERE coalesce(r.n, 0) <> coalesce(c.n, 0) + coalesce(q.n, 0)
ORDER BY event_date;
