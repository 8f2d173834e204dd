-- User x product confidence from clean events in [$start, $end).
-- Each (user, product, event type, order or session) counts once, weighted by the event type's
-- weight ($weight_types / $weight_values; types not listed weigh 0, negative weights subtract)
-- and, when $half_life_days > 0, by 0.5 ^ (age in days / half-life) with age counted back from
-- the last day of the window. Pairs whose total weight is not positive are dropped.
WITH ev AS (
    SELECT user_id, product_id, event_type, event_date, coalesce(order_id, session_id) AS touch
    FROM clean.events
    WHERE event_date >= CAST($start AS DATE) AND event_date < CAST($end AS DATE)
      AND user_id NOT IN (SELECT user_id FROM analytics.suspicious_activity
                          WHERE $exclude_suspicious AND level = 'user' AND flagged)
),
touches AS (
    SELECT user_id, product_id, event_type, touch, max(event_date) AS day FROM ev GROUP BY ALL
),
weighted AS (
    SELECT user_id, product_id, day,
           coalesce(CAST($weight_values AS DOUBLE[])[list_position(CAST($weight_types AS VARCHAR[]), event_type)], 0)
           * CASE WHEN CAST($half_life_days AS DOUBLE) > 0
                  THEN pow(0.5, (CAST($end AS DATE) - 1 - day) / CAST($half_life_days AS DOUBLE))
                  ELSE 1 END AS w
    FROM touches
),
pairs AS (
    SELECT user_id, product_id, sum(w) AS weight, count(*) AS touches, max(day) AS last_event_date
    FROM weighted GROUP BY ALL HAVING sum(w) > 0
)
SELECT
    user_id, product_id, CAST(weight AS FLOAT) AS weight, touches, last_event_date,
    CAST(dense_rank() OVER (ORDER BY user_id) - 1 AS INTEGER) AS user_index,
    CAST(dense_rank() OVER (ORDER BY product_id) - 1 AS INTEGER) AS item_index
FROM pairs
ORDER BY user_index, item_index;
