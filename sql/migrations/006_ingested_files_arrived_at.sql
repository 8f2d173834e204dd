-- Version 6: ops.ingested_files records when each file version first arrived (re-reads of the
-- same content keep it), for the late-arrival share of the daily volume check.
ALTER TABLE IF EXISTS ops.ingested_files ADD COLUMN IF NOT EXISTS arrived_at TIMESTAMP;
UPDATE ops.ingested_files SET arrived_at = loaded_at WHERE arrived_at IS NULL;
