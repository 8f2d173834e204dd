-- Version 4: the recommender evaluation is nested (validation chooses, test reports) and names
-- the served model.
ALTER TABLE IF EXISTS ml.rec_evaluation ADD COLUMN IF NOT EXISTS "window" VARCHAR;
ALTER TABLE IF EXISTS ml.rec_evaluation ADD COLUMN IF NOT EXISTS served BOOLEAN;
ALTER TABLE IF EXISTS ml.rec_evaluation ADD COLUMN IF NOT EXISTS params VARCHAR;
ALTER TABLE IF EXISTS ml.rec_evaluation ADD COLUMN IF NOT EXISTS eligible_users INTEGER;
