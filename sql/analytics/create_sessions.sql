-- analytics.sessions: one row per session, on the UTC day the session started.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.sessions (
    session_date        DATE,
    session_id          VARCHAR,
    user_id             VARCHAR,
    session_start       TIMESTAMP,
    session_end         TIMESTAMP,
    duration_seconds    DOUBLE,
    events              BIGINT,
    products_viewed     BIGINT,
    products_carted     BIGINT,
    products_purchased  BIGINT,
    reached_view        BOOLEAN,
    reached_cart        BOOLEAN,
    reached_purchase    BOOLEAN,
    orders              BIGINT,
    order_ids           VARCHAR[],
    units               BIGINT,
    revenue             DECIMAL(38, 4),
    cart_abandoned      BOOLEAN,
    abandoned_cart_value DECIMAL(38, 4),
    seconds_to_purchase DOUBLE,
    main_category       VARCHAR
);
COMMENT ON TABLE analytics.sessions IS 'One row per session (user x session_id), on the UTC day it started';
COMMENT ON COLUMN analytics.sessions.session_date IS 'UTC date of the first event: the partition';
COMMENT ON COLUMN analytics.sessions.session_id IS 'Source or derived session id (see clean.events)';
COMMENT ON COLUMN analytics.sessions.user_id IS 'User';
COMMENT ON COLUMN analytics.sessions.session_start IS 'First event time (UTC)';
COMMENT ON COLUMN analytics.sessions.session_end IS 'Last event time (UTC)';
COMMENT ON COLUMN analytics.sessions.duration_seconds IS 'session_end - session_start in seconds';
COMMENT ON COLUMN analytics.sessions.events IS 'Events in the session';
COMMENT ON COLUMN analytics.sessions.products_viewed IS 'Distinct products viewed';
COMMENT ON COLUMN analytics.sessions.products_carted IS 'Distinct products added to cart';
COMMENT ON COLUMN analytics.sessions.products_purchased IS 'Distinct products purchased';
COMMENT ON COLUMN analytics.sessions.reached_view IS 'Funnel step 1: a view, or any later step (a later step implies the earlier ones)';
COMMENT ON COLUMN analytics.sessions.reached_cart IS 'Funnel step 2: a cart add or a purchase';
COMMENT ON COLUMN analytics.sessions.reached_purchase IS 'Funnel step 3: a purchase';
COMMENT ON COLUMN analytics.sessions.orders IS 'Distinct orders purchased (order_id, or the session when the source has none)';
COMMENT ON COLUMN analytics.sessions.order_ids IS 'Order ids purchased in the session';
COMMENT ON COLUMN analytics.sessions.units IS 'Units purchased';
COMMENT ON COLUMN analytics.sessions.revenue IS 'Sum of price x quantity over purchases; NULL when the source has no prices';
COMMENT ON COLUMN analytics.sessions.cart_abandoned IS 'A cart add and no purchase in the session';
COMMENT ON COLUMN analytics.sessions.abandoned_cart_value IS 'Value of the cart adds of an abandoned session (0 otherwise; NULL without prices)';
COMMENT ON COLUMN analytics.sessions.seconds_to_purchase IS 'First view to first purchase, seconds; NULL without a view before the purchase';
COMMENT ON COLUMN analytics.sessions.main_category IS 'Most frequent category in the session';
