-- analytics.funnel_time_to_convert: how long users took from one funnel step to the next.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.funnel_time_to_convert (
    funnel          VARCHAR,
    entry_date      DATE,
    from_step       INTEGER,
    to_step         INTEGER,
    bucket_order    INTEGER,
    bucket          VARCHAR,
    users           BIGINT
);
COMMENT ON TABLE analytics.funnel_time_to_convert IS 'Per funnel, entry day and pair of steps (each step to the next, and step 1 to the last): users by time taken, in buckets';
COMMENT ON COLUMN analytics.funnel_time_to_convert.funnel IS 'Funnel name (as in analytics.user_funnel)';
COMMENT ON COLUMN analytics.funnel_time_to_convert.entry_date IS 'UTC day the users entered the funnel (the partition)';
COMMENT ON COLUMN analytics.funnel_time_to_convert.from_step IS 'Step the time is measured from';
COMMENT ON COLUMN analytics.funnel_time_to_convert.to_step IS 'Step the time is measured to';
COMMENT ON COLUMN analytics.funnel_time_to_convert.bucket_order IS '1..8, for sorting the buckets';
COMMENT ON COLUMN analytics.funnel_time_to_convert.bucket IS 'under 1 min, 1-10 min, 10-60 min, 1-6 h, 6-24 h, 1-3 d, 3-7 d, 7 d or more';
COMMENT ON COLUMN analytics.funnel_time_to_convert.users IS 'Users who reached to_step in that time';
