-- ops.erasures: users who asked to be forgotten; their rows are never loaded again.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.erasures (
    user_id         VARCHAR PRIMARY KEY,
    requested_at    TIMESTAMP NOT NULL
);
COMMENT ON TABLE ops.erasures IS 'Erased users (as stored: pseudonymised when a key is configured); ingestion drops their rows';
COMMENT ON COLUMN ops.erasures.user_id IS 'User id as stored in the warehouse';
COMMENT ON COLUMN ops.erasures.requested_at IS 'When the erasure was recorded (UTC)';
