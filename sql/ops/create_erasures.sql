-- ops.erasures: users who asked to be forgotten, as a hash, so the list itself holds no id.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.erasures (
    user_hash       VARCHAR NOT NULL,
    requested_at    TIMESTAMP NOT NULL
);
COMMENT ON TABLE ops.erasures IS 'Erased users; ingestion drops rows whose user id hashes to one of these';
COMMENT ON COLUMN ops.erasures.user_hash IS 'SHA-256 of the user id as stored (pseudonymised when a key is configured)';
COMMENT ON COLUMN ops.erasures.requested_at IS 'When the erasure was recorded (UTC)';
