-- Products most often left in abandoned carts over the latest 28 days, with the value left behind.
CREATE OR REPLACE VIEW analytics.top_abandoned_products AS
WITH last AS (SELECT max(session_date) AS d FROM analytics.sessions)
SELECT
    e.product_id,
    mode(e.category ORDER BY e.category) AS category,
    count(*) AS abandoned_cart_adds,
    count(DISTINCT e.session_id) AS abandoned_sessions,
    sum(e.price * e.quantity) AS value_left_in_carts
FROM analytics.sessions s
JOIN clean.events e
  ON e.session_id = s.session_id AND e.user_id = s.user_id
 AND e.event_date BETWEEN s.session_date AND s.session_date + 1
CROSS JOIN last
WHERE s.cart_abandoned AND e.event_type = 'cart'
  AND s.session_date > last.d - 28 AND s.session_date <= last.d
GROUP BY e.product_id
ORDER BY abandoned_cart_adds DESC, value_left_in_carts DESC NULLS LAST;
