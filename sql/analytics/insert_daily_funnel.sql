-- Funnel and commerce KPIs for [$start, $end). Funnel steps are per session (a later step implies
-- the earlier ones, so a purchase logged before its view still counts as viewed, and no rate
-- exceeds 1); commerce figures come straight from the day's events. $has_views / $has_carts say
-- whether the source has such events at all, and has_prices whether it has prices; if not, the
-- columns they feed are NULL, not 0.
INSERT INTO analytics.daily_funnel (
    event_date, category, sessions, sessions_with_view, sessions_with_cart,
    sessions_with_purchase, view_to_cart_rate, cart_to_purchase_rate, session_conversion_rate,
    active_users, purchasers, user_conversion_rate, orders, units, revenue,
    average_order_value, returned_value, cart_abandonment_rate, abandoned_cart_value,
    median_seconds_to_purchase, mean_seconds_to_purchase
)
WITH days AS (
    SELECT CAST(d AS DATE) AS event_date
    FROM range(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP), INTERVAL 1 DAY) t(d)
),
-- With $exclude_suspicious, users flagged in analytics.suspicious_activity are left out.
flagged AS (
    SELECT user_id FROM analytics.suspicious_activity
    WHERE $exclude_suspicious AND level = 'user' AND flagged
),
sess AS (
    SELECT * FROM analytics.sessions WHERE session_date >= $start AND session_date < $end
      AND user_id NOT IN (SELECT user_id FROM flagged)
),
-- One row per session and category it touched (step flags within that category) ...
sess_cat AS (
    SELECT
        s.session_date, e.category, s.session_id, s.user_id,
        bool_or(e.event_type IN ('view', 'cart', 'purchase')) AS reached_view,
        bool_or(e.event_type IN ('cart', 'purchase')) AS reached_cart,
        bool_or(e.event_type = 'purchase') AS reached_purchase,
        bool_or(e.event_type = 'cart') AND NOT bool_or(e.event_type = 'purchase') AS cart_abandoned,
        CASE WHEN bool_or(e.event_type = 'cart') AND NOT bool_or(e.event_type = 'purchase')
             THEN coalesce(sum(e.price * e.quantity) FILTER (e.event_type = 'cart'), 0) ELSE 0
        END AS abandoned_cart_value,
        CASE WHEN min(e.event_time) FILTER (e.event_type = 'view')
                  <= min(e.event_time) FILTER (e.event_type = 'purchase')
             THEN epoch(min(e.event_time) FILTER (e.event_type = 'purchase')
                        - min(e.event_time) FILTER (e.event_type = 'view'))
        END AS seconds_to_purchase
    FROM sess s
    JOIN clean.events e
      ON e.session_id = s.session_id AND e.user_id = s.user_id
     AND e.event_date >= s.session_date AND e.event_date <= s.session_date + 1
    WHERE e.category IS NOT NULL
    GROUP BY ALL
),
-- ... plus the whole session under '(all)'.
steps AS (
    SELECT session_date, '(all)' AS category, session_id, user_id, reached_view, reached_cart,
           reached_purchase, cart_abandoned, abandoned_cart_value, seconds_to_purchase
    FROM sess
    UNION ALL
    SELECT session_date, category, session_id, user_id, reached_view, reached_cart,
           reached_purchase, cart_abandoned, abandoned_cart_value, seconds_to_purchase
    FROM sess_cat
),
funnel AS (
    SELECT
        session_date AS event_date, category,
        count(*) AS sessions,
        count(*) FILTER (reached_view) AS sessions_with_view,
        count(*) FILTER (reached_cart) AS sessions_with_cart,
        count(*) FILTER (reached_purchase) AS sessions_with_purchase,
        count(*) FILTER (cart_abandoned) AS abandoned_sessions,
        sum(abandoned_cart_value) AS abandoned_cart_value,
        median(seconds_to_purchase) AS median_seconds_to_purchase,
        -- An exact decimal sum: the mean does not depend on the order rows arrive in.
        avg(CAST(seconds_to_purchase AS DECIMAL(18, 6))) AS mean_seconds_to_purchase
    FROM steps
    GROUP BY ALL
),
day_events AS (
    SELECT * FROM clean.events WHERE event_date >= $start AND event_date < $end
      AND user_id NOT IN (SELECT user_id FROM flagged)
),
commerce_rows AS (
    SELECT event_date, '(all)' AS category, user_id, event_type, order_id, session_id, price,
           quantity
    FROM day_events
    UNION ALL
    SELECT event_date, category, user_id, event_type, order_id, session_id, price, quantity
    FROM day_events WHERE category IS NOT NULL
),
commerce AS (
    SELECT
        event_date, category,
        count(DISTINCT user_id) AS active_users,
        count(DISTINCT user_id) FILTER (event_type = 'purchase') AS purchasers,
        count(DISTINCT coalesce(order_id, session_id)) FILTER (event_type = 'purchase') AS orders,
        coalesce(sum(quantity) FILTER (event_type = 'purchase'), 0) AS units,
        CASE WHEN count(*) FILTER (event_type = 'purchase') = 0 THEN 0
             ELSE sum(price * quantity) FILTER (event_type = 'purchase') END AS revenue,
        coalesce(sum(price * quantity) FILTER (event_type = 'return'), 0) AS returned_value
    FROM commerce_rows
    GROUP BY ALL
),
keys AS (
    SELECT event_date, '(all)' AS category FROM days
    UNION SELECT event_date, category FROM funnel
    UNION SELECT event_date, category FROM commerce
)
SELECT
    k.event_date, k.category,
    coalesce(f.sessions, 0),
    CASE WHEN $has_views THEN coalesce(f.sessions_with_view, 0) END,
    CASE WHEN $has_carts THEN coalesce(f.sessions_with_cart, 0) END,
    coalesce(f.sessions_with_purchase, 0),
    CASE WHEN $has_views AND $has_carts
         THEN f.sessions_with_cart / nullif(f.sessions_with_view, 0) END,
    CASE WHEN $has_carts THEN f.sessions_with_purchase / nullif(f.sessions_with_cart, 0) END,
    CASE WHEN $has_views THEN f.sessions_with_purchase / nullif(f.sessions, 0) END,
    coalesce(c.active_users, 0),
    coalesce(c.purchasers, 0),
    CASE WHEN $has_views THEN c.purchasers / nullif(c.active_users, 0) END,
    coalesce(c.orders, 0),
    coalesce(c.units, 0),
    CASE WHEN $has_prices THEN coalesce(c.revenue, 0) END,
    CASE WHEN $has_prices THEN c.revenue / nullif(c.orders, 0) END,
    CASE WHEN $has_prices THEN coalesce(c.returned_value, 0) END,
    CASE WHEN $has_carts THEN f.abandoned_sessions / nullif(f.sessions_with_cart, 0) END,
    CASE WHEN $has_carts AND $has_prices THEN coalesce(f.abandoned_cart_value, 0) END,
    CASE WHEN $has_views THEN f.median_seconds_to_purchase END,
    CASE WHEN $has_views THEN f.mean_seconds_to_purchase END
FROM keys k
LEFT JOIN funnel f USING (event_date, category)
LEFT JOIN commerce c USING (event_date, category)
ORDER BY k.event_date, k.category = '(all)' DESC, k.category;
