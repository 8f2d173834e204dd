-- ops.ingested_files: one row per landed file path, describing the version last read.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.ingested_files (
    path            VARCHAR NOT NULL,
    sha256          VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    duplicate_of    VARCHAR,
    rows            BIGINT,
    min_event_date  DATE,
    max_event_date  DATE,
    loaded_at       TIMESTAMP NOT NULL,
    error           VARCHAR,
    accept_from     DATE,
    bytes           BIGINT,
    arrived_at      TIMESTAMP
);
COMMENT ON TABLE ops.ingested_files IS 'Every landed file read by raw.events: content hash, rows and the days it covers';
COMMENT ON COLUMN ops.ingested_files.path IS 'Path relative to the landing directory';
COMMENT ON COLUMN ops.ingested_files.sha256 IS 'SHA-256 of the file content when read';
COMMENT ON COLUMN ops.ingested_files.status IS 'loaded; empty (no data rows); or duplicate when the same content was already landed under another path';
COMMENT ON COLUMN ops.ingested_files.duplicate_of IS 'For duplicates: the path whose copy was loaded';
COMMENT ON COLUMN ops.ingested_files.rows IS 'Data rows in the file (all days)';
COMMENT ON COLUMN ops.ingested_files.min_event_date IS 'First partition day the file touches';
COMMENT ON COLUMN ops.ingested_files.max_event_date IS 'Last partition day the file touches';
COMMENT ON COLUMN ops.ingested_files.loaded_at IS 'When this version was read (UTC)';
COMMENT ON COLUMN ops.ingested_files.error IS 'File-level problem (unreadable, missing columns); its rows are in clean.quarantine';
COMMENT ON COLUMN ops.ingested_files.accept_from IS 'Rows of this file dated before this day are quarantined as too_late (set when the file first arrived: the latest loaded day minus CONV_LATE_LOOKBACK_DAYS)';
COMMENT ON COLUMN ops.ingested_files.bytes IS 'Size of the file in bytes when read (compressed size for .gz/.zst)';
COMMENT ON COLUMN ops.ingested_files.arrived_at IS 'When this version (content) was first read (UTC); rows of day D from a version that arrived after D + 1 day count as late';
