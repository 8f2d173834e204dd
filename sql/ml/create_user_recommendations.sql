CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.user_recommendations (
    user_id VARCHAR, rank INTEGER, product_id VARCHAR, score FLOAT, source VARCHAR, cutoff_date DATE,
    list VARCHAR DEFAULT 'discovery', reason VARCHAR, because_product_id VARCHAR);
COMMENT ON TABLE ml.user_recommendations IS 'Two top-N lists per active user: discovery (products new to the user; already purchased items excluded, CONV_RECS_EXCLUDE_PURCHASED) and buy_again (products to buy again, chosen on the repeat task), each from the model ml.rec_evaluation chose for its task';
COMMENT ON COLUMN ml.user_recommendations.user_id IS 'Active user (an event in the CONV_RECS_ACTIVE_DAYS days before the cutoff)';
COMMENT ON COLUMN ml.user_recommendations.rank IS '1 = best';
COMMENT ON COLUMN ml.user_recommendations.product_id IS 'Recommended product';
COMMENT ON COLUMN ml.user_recommendations.score IS 'The source model''s score (blend: weighted reciprocal-rank sum); for popularity, distinct recent buyers';
COMMENT ON COLUMN ml.user_recommendations.source IS 'The served model (see ml.rec_evaluation.served), or popularity for users the model has not seen';
COMMENT ON COLUMN ml.user_recommendations.cutoff_date IS 'Trained on events before this day';
COMMENT ON COLUMN ml.user_recommendations.list IS 'discovery (the discovery task''s served model) or buy_again (the repeat task''s)';
COMMENT ON COLUMN ml.user_recommendations.reason IS 'Why the row is there: buy_again (the user bought it before, and it is due), bought_together (often in the same session or order as because_product_id, which the user interacted with: co_visitation), similar_to (like because_product_id, which the user interacted with: item-kNN or ALS), popular_in_category (a best-seller in a category the user buys from), popular (a best-seller)';
COMMENT ON COLUMN ml.user_recommendations.because_product_id IS 'The user''s own product behind the row: the one that adds most to its score (similar_to, bought_together), the product itself (buy_again); NULL for best-sellers';
