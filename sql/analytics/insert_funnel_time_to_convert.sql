-- analytics.funnel_time_to_convert rows from funnel_reach: each step to the next, and step 1 to
-- the last step (when there are more than two), users per time bucket.
INSERT INTO analytics.funnel_time_to_convert
WITH pairs AS (
    SELECT DISTINCT funnel, step AS from_step, step + 1 AS to_step FROM funnel_steps WHERE step < steps
    UNION
    SELECT DISTINCT funnel, 1, steps FROM funnel_steps WHERE steps > 2
),
times AS (
    SELECT p.funnel, a.entry_date, p.from_step, p.to_step, epoch(b.reached_at - a.reached_at) AS s
    FROM pairs p
    JOIN funnel_reach a ON a.funnel = p.funnel AND a.step = p.from_step
    JOIN funnel_reach b ON b.funnel = p.funnel AND b.step = p.to_step
        AND b.user_id = a.user_id AND b.entry_date = a.entry_date
),
bucketed AS (
    SELECT *, CASE WHEN s < 60 THEN 1 WHEN s < 600 THEN 2 WHEN s < 3600 THEN 3
                   WHEN s < 6 * 3600 THEN 4 WHEN s < 86400 THEN 5 WHEN s < 3 * 86400 THEN 6
                   WHEN s < 7 * 86400 THEN 7 ELSE 8 END AS bucket_order
    FROM times
)
SELECT funnel, entry_date, from_step, to_step, bucket_order,
       ['under 1 min', '1-10 min', '10-60 min', '1-6 h', '6-24 h', '1-3 d', '3-7 d', '7 d or more'][bucket_order],
       count(*)
FROM bucketed
GROUP BY ALL
ORDER BY funnel, entry_date, from_step, to_step, bucket_order;
