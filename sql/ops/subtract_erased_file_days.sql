-- Erased users' rows no longer count as read from their files.
UPDATE ops.ingested_file_days AS f SET rows = f.rows - e.n
FROM (SELECT source_file, event_date, count(*) AS n FROM raw.events
      WHERE user_id IN (SELECT unnest(CAST($ids AS VARCHAR[]))) GROUP BY ALL) AS e
WHERE f.path = e.source_file AND f.event_date = e.event_date;
