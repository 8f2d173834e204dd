CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.segment_summary (
    segment             VARCHAR,
    users               BIGINT,
    user_share          DOUBLE,
    revenue             DOUBLE,
    revenue_share       DOUBLE,
    conversion_rate     DOUBLE,
    avg_recency_days    DOUBLE,
    avg_frequency       DOUBLE,
    avg_monetary        DOUBLE
);
COMMENT ON TABLE analytics.segment_summary IS 'Size, revenue share, conversion and average RFM per segment';
COMMENT ON COLUMN analytics.segment_summary.segment IS 'Segment name';
COMMENT ON COLUMN analytics.segment_summary.users IS 'Users in the segment';
COMMENT ON COLUMN analytics.segment_summary.user_share IS 'users / all users';
COMMENT ON COLUMN analytics.segment_summary.revenue IS 'Revenue of the segment''s users to the cutoff';
COMMENT ON COLUMN analytics.segment_summary.revenue_share IS 'revenue / all revenue';
COMMENT ON COLUMN analytics.segment_summary.conversion_rate IS 'Share of the segment''s sessions (with a view, cart or purchase) in the last 28 days that had a purchase; NULL without such sessions';
COMMENT ON COLUMN analytics.segment_summary.avg_recency_days IS 'Average days since the last order';
COMMENT ON COLUMN analytics.segment_summary.avg_frequency IS 'Average orders';
COMMENT ON COLUMN analytics.segment_summary.avg_monetary IS 'Average revenue';
