-- analytics.daily_sales: per day, the total and the top categories (long tail as 'other').
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.daily_sales (
    event_date      DATE,
    series          VARCHAR,
    orders          BIGINT,
    units           BIGINT,
    revenue         DECIMAL(38, 4),
    buyers          BIGINT,
    no_sales        BOOLEAN,
    shop_closed     BOOLEAN
);
COMMENT ON TABLE analytics.daily_sales IS 'Daily sales per series: total, the top categories by revenue, and other; days without sales are explicit zeros';
COMMENT ON COLUMN analytics.daily_sales.event_date IS 'UTC day';
COMMENT ON COLUMN analytics.daily_sales.series IS '''total'', ''category:<name>'' for the top categories by revenue over the history when the day was built, or ''other''';
COMMENT ON COLUMN analytics.daily_sales.orders IS 'Distinct orders with a purchase in the series';
COMMENT ON COLUMN analytics.daily_sales.units IS 'Units purchased';
COMMENT ON COLUMN analytics.daily_sales.revenue IS 'Sum of price x quantity of purchases (NULL when the source has no prices)';
COMMENT ON COLUMN analytics.daily_sales.buyers IS 'Distinct users with a purchase';
COMMENT ON COLUMN analytics.daily_sales.no_sales IS 'No purchase in this series that day (the zeros are explicit, not missing)';
COMMENT ON COLUMN analytics.daily_sales.shop_closed IS 'No purchase in the whole shop that day (closed day, holiday, outage)';
