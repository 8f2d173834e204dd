-- Files rejected whole in [$start, $end): unreadable, or missing a required column.
SELECT source_file, reason, count(*) AS rows FROM clean.quarantine
WHERE event_date >= $start AND event_date < $end AND reason IN ('missing_column', 'unreadable_file')
GROUP BY ALL ORDER BY source_file;
