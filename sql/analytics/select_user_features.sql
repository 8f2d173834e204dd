-- Features per user as of $cutoff (a DATE): only events with event_date < $cutoff are read, so
-- nothing after the cutoff can leak in. Users: anyone with an event in the 365 days before it.
-- $exclude_suspicious drops users flagged in analytics.suspicious_activity.
-- NOT MATERIALIZED: each use scans only the columns it needs (see select_activity_profile).
WITH ev AS NOT MATERIALIZED (
    SELECT * FROM clean.events
    WHERE event_date < CAST($cutoff AS DATE)
      AND user_id NOT IN (SELECT user_id FROM analytics.suspicious_activity
                          WHERE $exclude_suspicious AND level = 'user' AND flagged)
),
active AS (
    SELECT DISTINCT user_id FROM ev WHERE event_date >= CAST($cutoff AS DATE) - 365
),
orders AS (
    SELECT user_id, coalesce(order_id, session_id) AS order_key, min(event_date) AS order_date,
           sum(price * quantity) AS value
    FROM ev WHERE event_type = 'purchase' GROUP BY ALL
),
sessions AS (
    SELECT user_id, session_id, bool_or(event_type = 'purchase') AS bought
    FROM ev WHERE event_type IN ('view', 'cart', 'purchase') GROUP BY ALL
),
per_user AS (
    SELECT
        user_id,
        min(event_date) AS first_seen,
        max(event_date) AS last_seen,
        count(*) FILTER (event_type = 'view') AS views,
        count(*) FILTER (event_type = 'cart') AS cart_adds,
        count(*) FILTER (event_type = 'purchase') AS purchases,
        count(*) FILTER (event_type = 'return') AS returns,
        count(DISTINCT category) AS distinct_categories,
        max(event_date) FILTER (event_type = 'cart') AS last_cart,
        count(*) FILTER (event_date >= CAST($cutoff AS DATE) - 30) AS events_30d,
        count(*) FILTER (event_type = 'purchase' AND event_date >= CAST($cutoff AS DATE) - 90) AS purchases_90d
    FROM ev GROUP BY user_id
),
per_user_orders AS (
    SELECT user_id, count(*) AS frequency, sum(value) AS monetary, max(order_date) AS last_order,
           count(*) FILTER (order_date >= CAST($cutoff AS DATE) - 90) AS orders_90d
    FROM orders GROUP BY user_id
),
per_user_sessions AS (
    SELECT user_id, count(*) AS shopping_sessions, count(*) FILTER (bought) AS buying_sessions
    FROM sessions GROUP BY user_id
)
SELECT
    a.user_id,
    CAST($cutoff AS DATE) AS cutoff_date,
    CAST($cutoff AS DATE) - o.last_order AS recency_days,
    coalesce(o.frequency, 0) AS frequency,
    coalesce(CAST(o.monetary AS DOUBLE), 0) AS monetary,
    CAST($cutoff AS DATE) - u.first_seen AS tenure_days,
    CAST($cutoff AS DATE) - u.last_seen AS days_since_last_event,
    u.views, u.cart_adds, u.purchases, u.returns,
    CAST(s.buying_sessions AS DOUBLE) / nullif(s.shopping_sessions, 0) AS view_to_purchase_rate,
    u.distinct_categories,
    CAST(o.monetary AS DOUBLE) / nullif(o.frequency, 0) AS average_basket,
    CAST($cutoff AS DATE) - u.last_cart AS days_since_last_cart,
    u.events_30d,
    coalesce(o.orders_90d, 0) AS orders_90d
FROM active a
JOIN per_user u USING (user_id)
LEFT JOIN per_user_orders o USING (user_id)
LEFT JOIN per_user_sessions s USING (user_id)
ORDER BY a.user_id;
