-- The demo's closing summary: the whole period's funnel (sessions by start day).
SELECT min(event_date) AS first_day, max(event_date) AS last_day, sum(sessions) AS sessions,
       sum(sessions_with_view) AS viewed, sum(sessions_with_cart) AS carted,
       sum(sessions_with_purchase) AS purchased, sum(orders) AS orders,
       CAST(sum(revenue) AS DOUBLE) AS revenue
FROM analytics.daily_funnel WHERE category = '(all)';
