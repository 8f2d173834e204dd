-- analytics.cohort_retention: monthly and weekly cohorts by first purchase.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.cohort_retention (
    grain                   VARCHAR,
    cohort                  DATE,
    period                  INTEGER,
    cohort_customers        BIGINT,
    active_customers        BIGINT,
    retention_rate          DOUBLE,
    period_revenue          DECIMAL(38, 4),
    repeat_purchase_rate    DOUBLE,
    revenue_per_customer    DECIMAL(38, 4)
);
COMMENT ON TABLE analytics.cohort_retention IS 'Customers by month (and week) of first purchase, and who purchased again in each later period';
COMMENT ON COLUMN analytics.cohort_retention.grain IS 'month or week (weeks start on Monday)';
COMMENT ON COLUMN analytics.cohort_retention.cohort IS 'First day of the month/week of the first purchase';
COMMENT ON COLUMN analytics.cohort_retention.period IS 'Periods since the cohort period (0 = the cohort period itself)';
COMMENT ON COLUMN analytics.cohort_retention.cohort_customers IS 'Customers in the cohort';
COMMENT ON COLUMN analytics.cohort_retention.active_customers IS 'Cohort customers with a purchase in this period';
COMMENT ON COLUMN analytics.cohort_retention.retention_rate IS 'active_customers / cohort_customers';
COMMENT ON COLUMN analytics.cohort_retention.period_revenue IS 'Revenue from the cohort in this period';
COMMENT ON COLUMN analytics.cohort_retention.repeat_purchase_rate IS 'Share of the cohort with more than one order, to date (same on every row of a cohort)';
COMMENT ON COLUMN analytics.cohort_retention.revenue_per_customer IS 'Historic revenue of the cohort to date / cohort_customers (same on every row of a cohort)';
