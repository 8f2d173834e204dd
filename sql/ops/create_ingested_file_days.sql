-- ops.ingested_file_days: rows per landed file and day, counted when the file is read.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.ingested_file_days (
    path        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    event_date  DATE NOT NULL,
    rows        BIGINT NOT NULL
);
COMMENT ON TABLE ops.ingested_file_days IS 'Rows of each landed file per partition day, counted as the file was read (before raw.events); the check rows_accounted_for compares them with clean + quarantine';
COMMENT ON COLUMN ops.ingested_file_days.path IS 'Path relative to the landing directory';
COMMENT ON COLUMN ops.ingested_file_days.sha256 IS 'SHA-256 of the file version counted';
COMMENT ON COLUMN ops.ingested_file_days.event_date IS 'Partition day';
COMMENT ON COLUMN ops.ingested_file_days.rows IS 'Rows of the file on that day (rows of erased users excluded)';
