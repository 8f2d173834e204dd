-- Version 2: ops.ingested_files records the size of each file version and says `empty`.
ALTER TABLE IF EXISTS ops.ingested_files ADD COLUMN IF NOT EXISTS bytes BIGINT;
