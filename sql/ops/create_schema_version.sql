-- ops.schema_version: which migrations in sql/migrations/ this warehouse has had.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.schema_version (
    version     INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    applied_at  TIMESTAMP NOT NULL
);
COMMENT ON TABLE ops.schema_version IS 'Schema migrations applied to this warehouse (sql/migrations/NNN_*.sql); version 1 is the first release';
