CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.user_features (
    user_id                 VARCHAR,
    cutoff_date             DATE,
    recency_days            INTEGER,
    frequency               BIGINT,
    monetary                DOUBLE,
    tenure_days             INTEGER,
    days_since_last_event   INTEGER,
    views                   BIGINT,
    cart_adds               BIGINT,
    purchases               BIGINT,
    returns                 BIGINT,
    view_to_purchase_rate   DOUBLE,
    distinct_categories     BIGINT,
    average_basket          DOUBLE,
    days_since_last_cart    INTEGER,
    events_30d              BIGINT,
    orders_90d              BIGINT
);
COMMENT ON TABLE analytics.user_features IS 'Per user as of cutoff_date, from events strictly before it (point in time): RFM and behaviour';
COMMENT ON COLUMN analytics.user_features.user_id IS 'User with an event in the 365 days before the cutoff';
COMMENT ON COLUMN analytics.user_features.cutoff_date IS 'Features use events with event_date < cutoff_date (the day after the latest complete day)';
COMMENT ON COLUMN analytics.user_features.recency_days IS 'Days from the last order to the cutoff; NULL without orders';
COMMENT ON COLUMN analytics.user_features.frequency IS 'Distinct orders';
COMMENT ON COLUMN analytics.user_features.monetary IS 'Revenue from the user (price x quantity of purchases)';
COMMENT ON COLUMN analytics.user_features.tenure_days IS 'Days since the first event';
COMMENT ON COLUMN analytics.user_features.days_since_last_event IS 'Days since the last event of any kind';
COMMENT ON COLUMN analytics.user_features.views IS 'View events';
COMMENT ON COLUMN analytics.user_features.cart_adds IS 'Cart events';
COMMENT ON COLUMN analytics.user_features.purchases IS 'Purchase events (order lines)';
COMMENT ON COLUMN analytics.user_features.returns IS 'Return events';
COMMENT ON COLUMN analytics.user_features.view_to_purchase_rate IS 'Sessions with a purchase / sessions with a view, cart or purchase';
COMMENT ON COLUMN analytics.user_features.distinct_categories IS 'Distinct categories touched';
COMMENT ON COLUMN analytics.user_features.average_basket IS 'monetary / frequency';
COMMENT ON COLUMN analytics.user_features.days_since_last_cart IS 'Days since the last cart add; NULL without one';
COMMENT ON COLUMN analytics.user_features.events_30d IS 'Events in the 30 days before the cutoff';
COMMENT ON COLUMN analytics.user_features.orders_90d IS 'Orders in the 90 days before the cutoff';
