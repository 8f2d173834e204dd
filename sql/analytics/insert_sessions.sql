-- Sessions that started in [$start, $end). Events from the day before are read to find sessions
-- that started then (they belong to that day), and from the day after for sessions that run
-- over midnight, so a session is one row however either day is rebuilt.
INSERT INTO analytics.sessions (
    session_date, session_id, user_id, session_start, session_end, duration_seconds, events,
    products_viewed, products_carted, products_purchased, reached_view, reached_cart,
    reached_purchase, orders, order_ids, units, revenue, cart_abandoned, abandoned_cart_value,
    seconds_to_purchase, main_category
)
WITH ev AS (
    SELECT * FROM clean.events
    WHERE event_date >= CAST($start AS DATE) - 1 AND event_date < CAST($end AS DATE) + 1
),
s AS (
    SELECT
        CAST(min(event_time) AS DATE) AS session_date,
        session_id,
        user_id,
        min(event_time) AS session_start,
        max(event_time) AS session_end,
        epoch(max(event_time) - min(event_time)) AS duration_seconds,
        count(*) AS events,
        count(DISTINCT product_id) FILTER (event_type = 'view') AS products_viewed,
        count(DISTINCT product_id) FILTER (event_type = 'cart') AS products_carted,
        count(DISTINCT product_id) FILTER (event_type = 'purchase') AS products_purchased,
        bool_or(event_type IN ('view', 'cart', 'purchase')) AS reached_view,
        bool_or(event_type IN ('cart', 'purchase')) AS reached_cart,
        bool_or(event_type = 'purchase') AS reached_purchase,
        count(DISTINCT coalesce(order_id, session_id)) FILTER (event_type = 'purchase') AS orders,
        coalesce(list(DISTINCT order_id ORDER BY order_id)
                 FILTER (event_type = 'purchase' AND order_id IS NOT NULL), []) AS order_ids,
        coalesce(sum(quantity) FILTER (event_type = 'purchase'), 0) AS units,
        CASE WHEN bool_or(event_type = 'purchase')
             THEN sum(price * quantity) FILTER (event_type = 'purchase') ELSE 0 END AS revenue,
        bool_or(event_type = 'cart') AND NOT bool_or(event_type = 'purchase') AS cart_abandoned,
        CASE WHEN bool_or(event_type = 'cart') AND NOT bool_or(event_type = 'purchase')
             THEN sum(price * quantity) FILTER (event_type = 'cart') ELSE 0 END
            AS abandoned_cart_value,
        min(event_time) FILTER (event_type = 'view') AS first_view,
        min(event_time) FILTER (event_type = 'purchase') AS first_purchase
    FROM ev
    GROUP BY session_id, user_id
),
-- The session's most frequent category, ties to the first in sort order (what mode() ORDER BY
-- gave; mode() cannot spill and took most of this query's time).
main AS (
    SELECT session_id, user_id, category AS main_category
    FROM (SELECT session_id, user_id, category, count(*) AS n FROM ev
          WHERE category IS NOT NULL GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY session_id, user_id ORDER BY n DESC, category) = 1
)
SELECT
    session_date, session_id, user_id, session_start, session_end, duration_seconds, events,
    products_viewed, products_carted, products_purchased, reached_view, reached_cart,
    reached_purchase, orders, order_ids, units, revenue, cart_abandoned, abandoned_cart_value,
    CASE WHEN first_view <= first_purchase THEN epoch(first_purchase - first_view) END,
    main_category
FROM s LEFT JOIN main USING (session_id, user_id)
WHERE session_date >= $start AND session_date < $end
ORDER BY session_date, user_id, session_start;
