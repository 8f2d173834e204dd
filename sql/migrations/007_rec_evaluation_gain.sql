-- Version 7: the served recommender must beat popularity for sure; each row keeps its model's
-- bootstrap interval of the ndcg@10 gain over popularity.
ALTER TABLE IF EXISTS ml.rec_evaluation ADD COLUMN IF NOT EXISTS gain_low DOUBLE;
ALTER TABLE IF EXISTS ml.rec_evaluation ADD COLUMN IF NOT EXISTS gain_high DOUBLE;
