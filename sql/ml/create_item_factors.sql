CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.item_factors (product_id VARCHAR, item_index INTEGER, factors FLOAT[]);
COMMENT ON TABLE ml.item_factors IS 'ALS item factors (implicit), one row per product in ml.interactions';
COMMENT ON COLUMN ml.item_factors.product_id IS 'Product';
COMMENT ON COLUMN ml.item_factors.item_index IS 'Column in the interaction matrix';
COMMENT ON COLUMN ml.item_factors.factors IS 'Latent factors; score(user, item) = dot(user factors, item factors)';
