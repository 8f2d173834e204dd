-- Daily sales for [$start, $end): every day gets a row per series, zeros included.
-- The top $top_categories categories by revenue over the whole history are their own series;
-- the rest is 'other'. Sources without categories have the total only.
INSERT INTO analytics.daily_sales (event_date, series, orders, units, revenue, buyers, no_sales, shop_closed)
WITH days AS (
    SELECT CAST(d AS DATE) AS event_date
    FROM range(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP), INTERVAL 1 DAY) t(d)
),
top AS (
    SELECT category FROM clean.events
    WHERE event_type = 'purchase' AND category IS NOT NULL
    GROUP BY category
    ORDER BY coalesce(sum(price * quantity), 0) DESC, count(*) DESC, category
    LIMIT CAST($top_categories AS INTEGER)
),
has_categories AS (
    SELECT count(*) > 0 AS yes FROM clean.events WHERE category IS NOT NULL
),
purchases AS (
    SELECT e.*, CASE WHEN t.category IS NOT NULL THEN 'category:' || e.category ELSE 'other' END
               AS cat_series
    FROM clean.events e LEFT JOIN top t USING (category)
    WHERE e.event_type = 'purchase' AND e.event_date >= $start AND e.event_date < $end
),
per_series AS (
    SELECT event_date, 'total' AS series, user_id, coalesce(order_id, session_id) AS order_key,
           quantity, price FROM purchases
    UNION ALL
    SELECT event_date, cat_series, user_id, coalesce(order_id, session_id), quantity, price
    FROM purchases, has_categories WHERE has_categories.yes
),
agg AS (
    SELECT event_date, series, count(DISTINCT order_key) AS orders, sum(quantity) AS units,
           sum(price * quantity) AS revenue, count(DISTINCT user_id) AS buyers
    FROM per_series GROUP BY ALL
),
all_series AS (
    SELECT 'total' AS series
    UNION ALL SELECT 'category:' || category FROM top, has_categories WHERE has_categories.yes
    UNION ALL SELECT 'other' FROM has_categories WHERE has_categories.yes
),
has_prices AS (SELECT bool_or(price IS NOT NULL) AS yes FROM clean.events WHERE event_type = 'purchase')
SELECT
    d.event_date, s.series,
    coalesce(a.orders, 0), coalesce(a.units, 0),
    CASE WHEN coalesce(hp.yes, true) THEN coalesce(a.revenue, 0) END,
    coalesce(a.buyers, 0),
    a.orders IS NULL,
    t.orders IS NULL
FROM days d CROSS JOIN all_series s CROSS JOIN has_prices hp
LEFT JOIN agg a ON a.event_date = d.event_date AND a.series = s.series
LEFT JOIN agg t ON t.event_date = d.event_date AND t.series = 'total'
ORDER BY d.event_date, s.series <> 'total', s.series;
