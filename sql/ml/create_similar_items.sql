CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.similar_items (
    product_id VARCHAR, rank INTEGER, similar_product_id VARCHAR, score FLOAT, method VARCHAR);
COMMENT ON TABLE ml.similar_items IS 'Top-K similar products per product: ALS and TF-IDF content blended by how much each product has been interacted with';
COMMENT ON COLUMN ml.similar_items.product_id IS 'Product';
COMMENT ON COLUMN ml.similar_items.rank IS '1 = most similar';
COMMENT ON COLUMN ml.similar_items.similar_product_id IS 'Similar product';
COMMENT ON COLUMN ml.similar_items.score IS 'w x ALS cosine + (1 - w) x content cosine, w = users / (users + 10)';
COMMENT ON COLUMN ml.similar_items.method IS 'hybrid, als (no text) or content (cold product without interactions, or no model)';
