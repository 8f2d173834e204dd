DELETE FROM analytics.cohort_retention;
INSERT INTO analytics.cohort_retention (
    grain, cohort, period, cohort_customers, active_customers, retention_rate, period_revenue,
    repeat_purchase_rate, revenue_per_customer
)
WITH purchases AS (
    SELECT user_id, event_time, coalesce(order_id, session_id) AS order_key, price * quantity AS value
    FROM clean.events WHERE event_type = 'purchase'
),
grains AS (SELECT unnest(['month', 'week']) AS grain),
p AS (
    SELECT g.grain, x.user_id, x.order_key, x.value,
           CAST(date_trunc(g.grain, x.event_time) AS DATE) AS period_start
    FROM purchases x, grains g
),
firsts AS (
    SELECT grain, user_id, min(period_start) AS cohort,
           count(DISTINCT order_key) > 1 AS repeat_buyer, sum(value) AS value
    FROM p GROUP BY ALL
),
cohort_stats AS (
    SELECT grain, cohort, count(*) AS cohort_customers,
           avg(CASE WHEN repeat_buyer THEN 1.0 ELSE 0.0 END) AS repeat_purchase_rate,
           sum(value) / count(*) AS revenue_per_customer
    FROM firsts GROUP BY ALL
),
activity AS (
    SELECT p.grain, f.cohort,
           CASE p.grain
               WHEN 'month' THEN datediff('month', f.cohort, p.period_start)
               ELSE (p.period_start - f.cohort) // 7
           END AS period,
           count(DISTINCT p.user_id) AS active_customers,
           sum(p.value) AS period_revenue
    FROM p JOIN firsts f USING (grain, user_id)
    GROUP BY ALL
)
SELECT a.grain, a.cohort, CAST(a.period AS INTEGER), c.cohort_customers, a.active_customers,
       a.active_customers / c.cohort_customers, a.period_revenue, c.repeat_purchase_rate,
       c.revenue_per_customer
FROM activity a JOIN cohort_stats c USING (grain, cohort)
ORDER BY a.grain, a.cohort, a.period;
