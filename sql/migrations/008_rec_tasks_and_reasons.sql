-- Version 8: recommendations are evaluated on two tasks (discovery: products new to the user;
-- repeat: every purchase) and served as two lists per user, each row with its reason.
ALTER TABLE IF EXISTS ml.rec_evaluation ADD COLUMN IF NOT EXISTS task VARCHAR DEFAULT 'discovery';
ALTER TABLE IF EXISTS ml.user_recommendations ADD COLUMN IF NOT EXISTS list VARCHAR DEFAULT 'discovery';
ALTER TABLE IF EXISTS ml.user_recommendations ADD COLUMN IF NOT EXISTS reason VARCHAR;
ALTER TABLE IF EXISTS ml.user_recommendations ADD COLUMN IF NOT EXISTS because_product_id VARCHAR;
