-- Record the version of a landed file that was just read: it replaces the file's earlier row
-- (no key enforces one row per path: the delete does, inside the ingest transaction).
DELETE FROM ops.ingested_files WHERE path = $path;
INSERT INTO ops.ingested_files (
    path, sha256, status, duplicate_of, rows, min_event_date, max_event_date, loaded_at, error,
    accept_from, bytes, arrived_at
)
VALUES ($path, $sha256, $status, $duplicate_of, $rows, $min_event_date, $max_event_date, now()::TIMESTAMP, $error, $accept_from, $bytes,
        coalesce(CAST($arrived_at AS TIMESTAMP), now()::TIMESTAMP));
