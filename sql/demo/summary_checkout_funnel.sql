-- The demo's closing summary: the checkout funnel over the whole period (users entering at
-- begin_checkout, every entry day summed), from analytics.user_funnel.
SELECT step, step_name, CAST(sum(entered) AS BIGINT) AS entered,
       min(entry_date) AS first_day, max(entry_date) AS last_day
FROM analytics.user_funnel
WHERE funnel = 'checkout' AND breakdown = 'all'
GROUP BY step, step_name
ORDER BY step;
