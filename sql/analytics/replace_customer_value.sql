DELETE FROM analytics.customer_value;
INSERT INTO analytics.customer_value (
    user_id, first_purchase, last_purchase, orders, units, revenue, average_order_value,
    days_between_orders, returned_value, historic_value
)
WITH orders AS (
    SELECT user_id, coalesce(order_id, session_id) AS order_key, min(event_time) AS order_time,
           sum(quantity) AS units, sum(price * quantity) AS revenue
    FROM clean.events WHERE event_type = 'purchase'
    GROUP BY ALL
),
returns AS (
    SELECT user_id, sum(price * quantity) AS returned_value
    FROM clean.events WHERE event_type = 'return' GROUP BY ALL
)
SELECT
    o.user_id, min(o.order_time), max(o.order_time), count(*), sum(o.units), sum(o.revenue),
    sum(o.revenue) / count(*),
    CASE WHEN count(*) > 1
         THEN epoch(max(o.order_time) - min(o.order_time)) / 86400.0 / (count(*) - 1) END,
    coalesce(any_value(r.returned_value), 0),
    sum(o.revenue) - coalesce(any_value(r.returned_value), 0)
FROM orders o LEFT JOIN returns r USING (user_id)
GROUP BY o.user_id
ORDER BY o.user_id;
