-- Per model: orders and revenue in clean events against what analytics.channel_attribution
-- credits (each order's credits add up to 1, so both must match).
WITH orders AS (
    SELECT user_id, coalesce(order_id, session_id) AS order_key, sum(price * quantity) AS revenue
    FROM clean.events WHERE event_type = 'purchase'
    GROUP BY ALL
),
totals AS (SELECT count(*) AS orders, sum(revenue) AS revenue FROM orders),
credited AS (
    SELECT model, sum(attributed_orders) AS orders, sum(attributed_revenue) AS revenue
    FROM analytics.channel_attribution GROUP BY model
)
SELECT m.model, t.orders, coalesce(c.orders, 0) AS credited_orders, t.revenue,
       c.revenue AS credited_revenue
FROM (SELECT unnest(['first_touch', 'last_touch', 'linear', 'position_based']) AS model) m
CROSS JOIN totals t
LEFT JOIN credited c USING (model)
ORDER BY m.model;
