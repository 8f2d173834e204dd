CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.suspicious_activity (
    level                   VARCHAR,
    user_id                 VARCHAR,
    session_id              VARCHAR,
    cutoff_date             DATE,
    anomaly_score           DOUBLE,
    flagged                 BOOLEAN,
    reasons                 VARCHAR,
    events                  BIGINT,
    max_events_per_minute   BIGINT,
    max_session_events      BIGINT,
    views                   BIGINT,
    carts_or_purchases      BIGINT,
    orders                  BIGINT,
    max_order_units         BIGINT,
    max_order_value         DOUBLE,
    returns                 BIGINT,
    purchases               BIGINT,
    active_days             BIGINT,
    sessions                BIGINT
);
COMMENT ON TABLE analytics.suspicious_activity IS 'Users (every user, scored) and sessions (flagged ones) whose behaviour is unlike a shopper''s, with the reasons';
COMMENT ON COLUMN analytics.suspicious_activity.level IS 'user or session';
COMMENT ON COLUMN analytics.suspicious_activity.user_id IS 'User';
COMMENT ON COLUMN analytics.suspicious_activity.session_id IS 'Session (session rows only)';
COMMENT ON COLUMN analytics.suspicious_activity.cutoff_date IS 'Events before this day were scored';
COMMENT ON COLUMN analytics.suspicious_activity.anomaly_score IS 'IsolationForest anomaly score (higher = stranger; user rows)';
COMMENT ON COLUMN analytics.suspicious_activity.flagged IS 'Flagged by at least one rule (a model outlier alone is listed for review, not flagged)';
COMMENT ON COLUMN analytics.suspicious_activity.reasons IS 'Comma-separated: event_burst, huge_session, many_views_no_cart, abnormal_order_size, abnormal_order_value, many_returns, isolation_forest';
COMMENT ON COLUMN analytics.suspicious_activity.events IS 'Events (of the user, or of the session)';
COMMENT ON COLUMN analytics.suspicious_activity.max_events_per_minute IS 'Most events in one minute';
COMMENT ON COLUMN analytics.suspicious_activity.max_session_events IS 'Events in the user''s largest session';
COMMENT ON COLUMN analytics.suspicious_activity.views IS 'View events';
COMMENT ON COLUMN analytics.suspicious_activity.carts_or_purchases IS 'Cart and purchase events';
COMMENT ON COLUMN analytics.suspicious_activity.orders IS 'Orders';
COMMENT ON COLUMN analytics.suspicious_activity.max_order_units IS 'Units in the largest order';
COMMENT ON COLUMN analytics.suspicious_activity.max_order_value IS 'Value of the largest order';
COMMENT ON COLUMN analytics.suspicious_activity.returns IS 'Return events';
COMMENT ON COLUMN analytics.suspicious_activity.purchases IS 'Purchase events (user rows)';
COMMENT ON COLUMN analytics.suspicious_activity.active_days IS 'Days with any event (user rows)';
COMMENT ON COLUMN analytics.suspicious_activity.sessions IS 'Sessions (user rows)';
