-- Monthly cohorts in wide form: retention rate in months 0..12 after the first purchase.
CREATE OR REPLACE VIEW analytics.cohort_matrix_monthly AS
SELECT
    cohort,
    any_value(cohort_customers) AS customers,
    any_value(repeat_purchase_rate) AS repeat_purchase_rate,
    any_value(revenue_per_customer) AS revenue_per_customer,
    max(retention_rate) FILTER (period = 0) AS m0,
    max(retention_rate) FILTER (period = 1) AS m1,
    max(retention_rate) FILTER (period = 2) AS m2,
    max(retention_rate) FILTER (period = 3) AS m3,
    max(retention_rate) FILTER (period = 4) AS m4,
    max(retention_rate) FILTER (period = 5) AS m5,
    max(retention_rate) FILTER (period = 6) AS m6,
    max(retention_rate) FILTER (period = 7) AS m7,
    max(retention_rate) FILTER (period = 8) AS m8,
    max(retention_rate) FILTER (period = 9) AS m9,
    max(retention_rate) FILTER (period = 10) AS m10,
    max(retention_rate) FILTER (period = 11) AS m11,
    max(retention_rate) FILTER (period = 12) AS m12
FROM analytics.cohort_retention
WHERE grain = 'month'
GROUP BY cohort
ORDER BY cohort;
