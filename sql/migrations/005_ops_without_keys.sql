-- Version 5: ops.ingested_files and ops.erasures lose their PRIMARY KEY (DuckLake has no keys,
-- and the same SQL serves the file and the lake). Uniqueness is kept by the writes themselves:
-- a file's row is deleted before its new version is inserted, and an erasure is inserted only
-- when its hash is not there yet. DuckDB cannot drop a constraint, so the tables are rebuilt.
CREATE TABLE IF NOT EXISTS ops.ingested_files_v5 AS FROM ops.ingested_files;
DROP TABLE IF EXISTS ops.ingested_files;
ALTER TABLE IF EXISTS ops.ingested_files_v5 RENAME TO ingested_files;
CREATE TABLE IF NOT EXISTS ops.erasures_v5 AS FROM ops.erasures;
DROP TABLE IF EXISTS ops.erasures;
ALTER TABLE IF EXISTS ops.erasures_v5 RENAME TO erasures;
