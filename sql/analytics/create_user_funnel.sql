-- analytics.user_funnel: user-level funnels across sessions, by the day users entered them.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.user_funnel (
    funnel              VARCHAR,
    entry_date          DATE,
    breakdown           VARCHAR,
    breakdown_value     VARCHAR,
    step                INTEGER,
    step_name           VARCHAR,
    entered             BIGINT,
    converted           BIGINT,
    drop_off            BIGINT,
    conversion_rate     DOUBLE,
    rate_from_start     DOUBLE,
    p50_hours_to_next   DOUBLE,
    p90_hours_to_next   DOUBLE
);
COMMENT ON TABLE analytics.user_funnel IS 'Per funnel (CONV_FUNNELS; default view > cart > purchase, and the checkout steps), entry day, breakdown and step: users who reached the step within the funnel''s window from their first step-1 event that day, across sessions';
COMMENT ON COLUMN analytics.user_funnel.funnel IS 'Funnel name';
COMMENT ON COLUMN analytics.user_funnel.entry_date IS 'UTC day of the user''s first step-1 event that day (the partition); a user entering on several days counts on each';
COMMENT ON COLUMN analytics.user_funnel.breakdown IS 'all, category, channel, device, country or user_type, each taken from the entry event (channel: of its session, as in channel_attribution)';
COMMENT ON COLUMN analytics.user_funnel.breakdown_value IS '(all) for breakdown all; (none) where the entry event has no value; user_type: new (no event before the entry day) or returning';
COMMENT ON COLUMN analytics.user_funnel.step IS 'Step number, 1 = entry';
COMMENT ON COLUMN analytics.user_funnel.step_name IS 'Event type of the step (and its filters, joined by +)';
COMMENT ON COLUMN analytics.user_funnel.entered IS 'Users who reached this step (strict order: after the step before; any order: this many distinct steps) within window_days of entry';
COMMENT ON COLUMN analytics.user_funnel.converted IS 'Of those, users who reached the next step; NULL on the last step';
COMMENT ON COLUMN analytics.user_funnel.drop_off IS 'entered - converted; NULL on the last step';
COMMENT ON COLUMN analytics.user_funnel.conversion_rate IS 'converted / entered';
COMMENT ON COLUMN analytics.user_funnel.rate_from_start IS 'entered / users who entered step 1';
COMMENT ON COLUMN analytics.user_funnel.p50_hours_to_next IS 'Median hours from reaching this step to reaching the next, among converted users';
COMMENT ON COLUMN analytics.user_funnel.p90_hours_to_next IS '90th percentile of the same';
