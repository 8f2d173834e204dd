-- analytics.user_lifecycle: per week, users by lifecycle status (growth accounting).
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.user_lifecycle (
    activity            VARCHAR,
    week                DATE,
    active_users        BIGINT,
    new_users           BIGINT,
    returning_users     BIGINT,
    resurrecting_users  BIGINT,
    dormant_users       BIGINT,
    quick_ratio         DOUBLE,
    complete_week       BOOLEAN
);
COMMENT ON TABLE analytics.user_lifecycle IS 'Per week (Monday to Sunday, UTC) and kind of activity: new, returning, resurrecting and dormant users';
COMMENT ON COLUMN analytics.user_lifecycle.activity IS 'any: a user with any clean event that week; purchase: a user with a purchase that week (a customer)';
COMMENT ON COLUMN analytics.user_lifecycle.week IS 'Monday of the week';
COMMENT ON COLUMN analytics.user_lifecycle.active_users IS 'Users active this week = new + returning + resurrecting';
COMMENT ON COLUMN analytics.user_lifecycle.new_users IS 'Active this week for the first time ever';
COMMENT ON COLUMN analytics.user_lifecycle.returning_users IS 'Active this week and the week before';
COMMENT ON COLUMN analytics.user_lifecycle.resurrecting_users IS 'Active this week, not the week before, but in some earlier week';
COMMENT ON COLUMN analytics.user_lifecycle.dormant_users IS 'Active the week before, not this week';
COMMENT ON COLUMN analytics.user_lifecycle.quick_ratio IS '(new + resurrecting) / dormant: above 1 the active base grows; NULL without dormant users';
COMMENT ON COLUMN analytics.user_lifecycle.complete_week IS 'false for the last week when the data ends before its Sunday (its figures are partial)';
