CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.user_segments (
    user_id         VARCHAR,
    segment         VARCHAR,
    cluster         INTEGER,
    recency_days    INTEGER,
    frequency       BIGINT,
    monetary        DOUBLE,
    cutoff_date     DATE
);
COMMENT ON TABLE analytics.user_segments IS 'RFM segment per customer (k-means on scaled log RFM; k by silhouette); users without orders are prospects';
COMMENT ON COLUMN analytics.user_segments.user_id IS 'User';
COMMENT ON COLUMN analytics.user_segments.segment IS 'champions, loyal, promising, new, at risk, hibernating, ... named from the cluster centroids; prospects = never purchased';
COMMENT ON COLUMN analytics.user_segments.cluster IS 'k-means cluster number (-1 for prospects); names, not numbers, are stable between runs';
COMMENT ON COLUMN analytics.user_segments.recency_days IS 'Days since the last order';
COMMENT ON COLUMN analytics.user_segments.frequency IS 'Orders';
COMMENT ON COLUMN analytics.user_segments.monetary IS 'Revenue';
COMMENT ON COLUMN analytics.user_segments.cutoff_date IS 'As of this day (exclusive)';
