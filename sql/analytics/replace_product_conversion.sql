-- Rebuild analytics.product_conversion over the $window_days days ending on the latest event day.
DELETE FROM analytics.product_conversion;
INSERT INTO analytics.product_conversion (
    level, product_id, category, window_start, window_end, views, cart_adds, purchases, units,
    viewing_sessions, purchasing_sessions, view_to_purchase_rate, revenue
)
WITH bounds AS (
    SELECT max(event_date) AS window_end,
           max(event_date) - CAST($window_days AS INTEGER) + 1 AS window_start
    FROM clean.events
),
ev AS (
    SELECT e.* FROM clean.events e, bounds b
    WHERE e.event_date BETWEEN b.window_start AND b.window_end
      AND e.event_type IN ('view', 'cart', 'purchase')
),
by_session AS (
    SELECT product_id, category, session_id, user_id,
           count(*) FILTER (event_type = 'view') AS views,
           count(*) FILTER (event_type = 'cart') AS cart_adds,
           count(*) FILTER (event_type = 'purchase') AS purchases,
           coalesce(sum(quantity) FILTER (event_type = 'purchase'), 0) AS units,
           sum(price * quantity) FILTER (event_type = 'purchase') AS revenue
    FROM ev GROUP BY ALL
),
-- A product's category: the most frequent over its sessions, ties to the first in sort order
-- (what mode() ORDER BY gives, far cheaper).
product_category AS (
    SELECT product_id, category
    FROM (SELECT product_id, category, count(*) AS n FROM by_session
          WHERE category IS NOT NULL GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY n DESC, category) = 1
),
product AS (
    SELECT 'product' AS level, product_id, c.category,
           sum(views) AS views, sum(cart_adds) AS cart_adds, sum(purchases) AS purchases,
           sum(units) AS units, count(*) AS viewing_sessions,
           count(*) FILTER (purchases > 0) AS purchasing_sessions,
           coalesce(sum(revenue), 0) AS revenue
    FROM by_session LEFT JOIN product_category c USING (product_id)
    GROUP BY product_id, c.category
),
category AS (
    SELECT 'category' AS level, NULL AS product_id, category,
           sum(views), sum(cart_adds), sum(purchases), sum(units),
           count(DISTINCT (session_id, user_id)),
           count(DISTINCT (session_id, user_id)) FILTER (purchases > 0),
           coalesce(sum(revenue), 0)
    FROM by_session WHERE category IS NOT NULL GROUP BY category
)
SELECT x.level, x.product_id, x.category, b.window_start, b.window_end, x.views, x.cart_adds,
       x.purchases, x.units, x.viewing_sessions, x.purchasing_sessions,
       CASE WHEN $has_views THEN x.purchasing_sessions / nullif(x.viewing_sessions, 0) END,
       CASE WHEN $has_prices THEN x.revenue END
FROM (SELECT * FROM product UNION ALL SELECT * FROM category) x, bounds b
ORDER BY x.level DESC, x.revenue DESC, x.views DESC, x.category, x.product_id;
