CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.campaign_audiences (
    audience        VARCHAR,
    user_id         VARCHAR,
    segment         VARCHAR,
    propensity      DOUBLE,
    expected_value  DOUBLE,
    reason          VARCHAR,
    rank            BIGINT,
    cutoff_date     DATE
);
COMMENT ON TABLE analytics.campaign_audiences IS 'Ready-to-use target lists with the reason and expected value; flagged (suspicious) users never appear';
COMMENT ON COLUMN analytics.campaign_audiences.audience IS 'abandoned_cart (cart left in the last CONV_AUDIENCE_DAYS days, no purchase since), high_value_at_risk, second_order_due';
COMMENT ON COLUMN analytics.campaign_audiences.user_id IS 'User';
COMMENT ON COLUMN analytics.campaign_audiences.segment IS 'The user''s RFM segment';
COMMENT ON COLUMN analytics.campaign_audiences.propensity IS 'Purchase propensity score (next 7 days)';
COMMENT ON COLUMN analytics.campaign_audiences.expected_value IS 'propensity x value at stake (abandoned cart value, or average basket); NULL without prices';
COMMENT ON COLUMN analytics.campaign_audiences.reason IS 'Why the user is in the list, in words';
COMMENT ON COLUMN analytics.campaign_audiences.rank IS 'Rank within the audience by expected value, then propensity';
COMMENT ON COLUMN analytics.campaign_audiences.cutoff_date IS 'As of this day (exclusive)';
