-- Days in [$start, $end) where the rows counted when the files were read (ops.ingested_file_days,
-- recorded before raw.events) differ from clean rows + quarantined rows.
WITH f AS (SELECT event_date, sum(rows) AS n FROM ops.ingested_file_days
           WHERE event_date >= $start AND event_date < $end GROUP BY ALL),
     c AS (SELECT event_date, count(*) AS n FROM clean.events
           WHERE event_date >= $start AND event_date < $end GROUP BY ALL),
     q AS (SELECT event_date, count(*) AS n FROM clean.quarantine
           WHERE event_date >= $start AND event_date < $end GROUP BY ALL)
SELECT event_date, coalesce(f.n, 0) AS rows_read, coalesce(c.n, 0) AS clean_rows,
       coalesce(q.n, 0) AS quarantined_rows
FROM f FULL JOIN c USING (event_date) FULL JOIN q USING (event_date)
WHERE coalesce(f.n, 0) <> coalesce(c.n, 0) + coalesce(q.n, 0)
ORDER BY event_date;
