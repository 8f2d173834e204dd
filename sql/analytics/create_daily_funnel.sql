-- analytics.daily_funnel: per day, overall (category '(all)') and per category.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.daily_funnel (
    event_date                  DATE,
    category                    VARCHAR,
    sessions                    BIGINT,
    sessions_with_view          BIGINT,
    sessions_with_cart          BIGINT,
    sessions_with_purchase      BIGINT,
    view_to_cart_rate           DOUBLE,
    cart_to_purchase_rate       DOUBLE,
    session_conversion_rate     DOUBLE,
    active_users                BIGINT,
    purchasers                  BIGINT,
    user_conversion_rate        DOUBLE,
    orders                      BIGINT,
    units                       BIGINT,
    revenue                     DECIMAL(38, 4),
    average_order_value         DECIMAL(38, 4),
    returned_value              DECIMAL(38, 4),
    cart_abandonment_rate       DOUBLE,
    abandoned_cart_value        DECIMAL(38, 4),
    median_seconds_to_purchase  DOUBLE,
    mean_seconds_to_purchase    DOUBLE
);
COMMENT ON TABLE analytics.daily_funnel IS 'Daily funnel and commerce KPIs, overall (category = ''(all)'') and per category';
COMMENT ON COLUMN analytics.daily_funnel.event_date IS 'UTC day (sessions by start day, commerce figures by event day)';
COMMENT ON COLUMN analytics.daily_funnel.category IS '''(all)'' for the whole shop, else the product category';
COMMENT ON COLUMN analytics.daily_funnel.sessions IS 'Sessions started that day (touching the category)';
COMMENT ON COLUMN analytics.daily_funnel.sessions_with_view IS 'Sessions reaching the view step (a later step implies it); NULL when the source has no views';
COMMENT ON COLUMN analytics.daily_funnel.sessions_with_cart IS 'Sessions reaching the cart step (a purchase implies it); NULL when the source has no cart events';
COMMENT ON COLUMN analytics.daily_funnel.sessions_with_purchase IS 'Sessions with a purchase';
COMMENT ON COLUMN analytics.daily_funnel.view_to_cart_rate IS 'sessions_with_cart / sessions_with_view; NULL without a denominator';
COMMENT ON COLUMN analytics.daily_funnel.cart_to_purchase_rate IS 'sessions_with_purchase / sessions_with_cart; NULL without a denominator';
COMMENT ON COLUMN analytics.daily_funnel.session_conversion_rate IS 'sessions_with_purchase / sessions; NULL when the source has no views';
COMMENT ON COLUMN analytics.daily_funnel.active_users IS 'Distinct users with any event that day';
COMMENT ON COLUMN analytics.daily_funnel.purchasers IS 'Distinct users with a purchase that day';
COMMENT ON COLUMN analytics.daily_funnel.user_conversion_rate IS 'purchasers / active_users; NULL when the source has no views';
COMMENT ON COLUMN analytics.daily_funnel.orders IS 'Distinct orders purchased that day (order_id, else session)';
COMMENT ON COLUMN analytics.daily_funnel.units IS 'Units purchased';
COMMENT ON COLUMN analytics.daily_funnel.revenue IS 'Gross revenue: sum of price x quantity of purchases (returns not deducted)';
COMMENT ON COLUMN analytics.daily_funnel.average_order_value IS 'revenue / orders';
COMMENT ON COLUMN analytics.daily_funnel.returned_value IS 'Sum of price x quantity of returns that day';
COMMENT ON COLUMN analytics.daily_funnel.cart_abandonment_rate IS 'Sessions with a cart add and no purchase / sessions with a cart add';
COMMENT ON COLUMN analytics.daily_funnel.abandoned_cart_value IS 'Value of the cart adds in abandoned sessions';
COMMENT ON COLUMN analytics.daily_funnel.median_seconds_to_purchase IS 'Median seconds from first view to first purchase over converting sessions with a view first';
COMMENT ON COLUMN analytics.daily_funnel.mean_seconds_to_purchase IS 'Mean of the same';
