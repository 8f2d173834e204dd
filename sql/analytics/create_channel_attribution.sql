-- analytics.channel_attribution: order revenue credited to the channels of the sessions before it.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.channel_attribution (
    model               VARCHAR,
    order_date          DATE,
    channel             VARCHAR,
    attributed_orders   DOUBLE,
    attributed_revenue  DECIMAL(38, 4),
    spend               DECIMAL(38, 4),
    cost_per_order      DOUBLE,
    roas                DOUBLE
);
COMMENT ON TABLE analytics.channel_attribution IS 'Per attribution model, order day and channel: the share of orders and revenue credited to the channel, from the user''s sessions in the lookback window before each order (CONV_ATTRIBUTION_LOOKBACK_DAYS, default 30), and spend from landed marketing_spend files';
COMMENT ON COLUMN analytics.channel_attribution.model IS 'first_touch (the earliest session gets all), last_touch (the order''s own or latest session), linear (equal shares), position_based (40% first, 40% last, 20% shared by the sessions between; 50/50 with two)';
COMMENT ON COLUMN analytics.channel_attribution.order_date IS 'UTC day of the order (its first purchase event); for spend without orders, the spend''s day';
COMMENT ON COLUMN analytics.channel_attribution.channel IS 'A session''s channel: "utm_source / utm_medium" of its first event that has them (lower case), else "(referral) host" of its first referrer, else "(direct)"';
COMMENT ON COLUMN analytics.channel_attribution.attributed_orders IS 'Sum of the channel''s credits (each order''s credits add up to 1 per model)';
COMMENT ON COLUMN analytics.channel_attribution.attributed_revenue IS 'Sum of credit x order revenue; NULL when the source has no prices';
COMMENT ON COLUMN analytics.channel_attribution.spend IS 'Spend of that day and channel from the marketing_spend files; NULL when none was landed';
COMMENT ON COLUMN analytics.channel_attribution.cost_per_order IS 'spend / attributed_orders';
COMMENT ON COLUMN analytics.channel_attribution.roas IS 'Return on ad spend: attributed_revenue / spend';
