CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.user_factors (user_id VARCHAR, user_index INTEGER, factors FLOAT[]);
COMMENT ON TABLE ml.user_factors IS 'ALS user factors (implicit), one row per user in ml.interactions';
COMMENT ON COLUMN ml.user_factors.user_id IS 'User';
COMMENT ON COLUMN ml.user_factors.user_index IS 'Row in the interaction matrix';
COMMENT ON COLUMN ml.user_factors.factors IS 'Latent factors';
