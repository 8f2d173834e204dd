CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.new_user_recommendations (
    user_id VARCHAR, rank INTEGER, product_id VARCHAR, score FLOAT, source VARCHAR, cutoff_date DATE,
    list VARCHAR, reason VARCHAR, because_product_id VARCHAR, model_cutoff_date DATE);
COMMENT ON TABLE ml.new_user_recommendations IS 'Discovery lists for customers who arrived after the last model fit (no event before its cutoff), from their own events since, without refitting: the saved ALS with their factors recalculated, co-visitation and item-kNN over their events, as the served model combines them. Same columns as ml.user_recommendations, plus model_cutoff_date';
COMMENT ON COLUMN ml.new_user_recommendations.user_id IS 'A user with events on or after model_cutoff_date whom the fit did not see';
COMMENT ON COLUMN ml.new_user_recommendations.rank IS '1 = best';
COMMENT ON COLUMN ml.new_user_recommendations.product_id IS 'Recommended product';
COMMENT ON COLUMN ml.new_user_recommendations.score IS 'The source model''s score';
COMMENT ON COLUMN ml.new_user_recommendations.source IS 'The discovery list''s served model (as in ml.user_recommendations)';
COMMENT ON COLUMN ml.new_user_recommendations.cutoff_date IS 'The user''s events before this day were used (the day after the latest event)';
COMMENT ON COLUMN ml.new_user_recommendations.list IS 'discovery';
COMMENT ON COLUMN ml.new_user_recommendations.reason IS 'As in ml.user_recommendations: bought_together, similar_to, popular_in_category, buy_again, popular';
COMMENT ON COLUMN ml.new_user_recommendations.because_product_id IS 'The user''s own product behind the row; NULL for best-sellers';
COMMENT ON COLUMN ml.new_user_recommendations.model_cutoff_date IS 'The fit the lists come from: trained on events before this day';
