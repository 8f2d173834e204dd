CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.purchase_propensity (
    user_id         VARCHAR,
    cutoff_date     DATE,
    score           DOUBLE,
    decile          INTEGER,
    rank            BIGINT,
    model           VARCHAR
);
COMMENT ON TABLE analytics.purchase_propensity IS 'Probability that each active user purchases in the 7 days from cutoff_date';
COMMENT ON COLUMN analytics.purchase_propensity.user_id IS 'Active user (an event in the 365 days before the cutoff)';
COMMENT ON COLUMN analytics.purchase_propensity.cutoff_date IS 'Scored with features from before this day';
COMMENT ON COLUMN analytics.purchase_propensity.score IS 'Predicted probability of a purchase in the next 7 days';
COMMENT ON COLUMN analytics.purchase_propensity.decile IS '1 = the top 10% of scores';
COMMENT ON COLUMN analytics.purchase_propensity.rank IS '1 = highest score';
COMMENT ON COLUMN analytics.purchase_propensity.model IS 'gradient_boosting, or recency_baseline when history is too short to train';
