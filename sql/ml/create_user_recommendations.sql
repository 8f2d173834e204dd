CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.user_recommendations (
    user_id VARCHAR, rank INTEGER, product_id VARCHAR, score FLOAT, source VARCHAR, cutoff_date DATE);
COMMENT ON TABLE ml.user_recommendations IS 'Top-N products per active user; already purchased items excluded (CONV_RECS_EXCLUDE_PURCHASED)';
COMMENT ON COLUMN ml.user_recommendations.user_id IS 'Active user (an event in the CONV_RECS_ACTIVE_DAYS days before the cutoff)';
COMMENT ON COLUMN ml.user_recommendations.rank IS '1 = best';
COMMENT ON COLUMN ml.user_recommendations.product_id IS 'Recommended product';
COMMENT ON COLUMN ml.user_recommendations.score IS 'The source model''s score (blend: weighted reciprocal-rank sum); for popularity, distinct recent buyers';
COMMENT ON COLUMN ml.user_recommendations.source IS 'The served model (see ml.rec_evaluation.served), or popularity for users the model has not seen';
COMMENT ON COLUMN ml.user_recommendations.cutoff_date IS 'Trained on events before this day';
