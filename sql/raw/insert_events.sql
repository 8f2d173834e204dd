-- The staged blocks of this run (Parquet files $paths, see raw/stage_events) into raw.events,
-- inside the write transaction (after the delete). One INSERT ... SELECT: DuckDB writes a large
-- append straight to the file, so the transaction stays within bounds.
INSERT INTO raw.events BY NAME SELECT * FROM read_parquet($paths);
