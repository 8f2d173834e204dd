-- The day counts of one file version just read (registered as `day_counts`), replacing the
-- counts of its earlier versions.
DELETE FROM ops.ingested_file_days WHERE path = $path;
INSERT INTO ops.ingested_file_days (path, sha256, event_date, rows)
SELECT $path, $sha256, event_date, rows FROM day_counts;
