-- Behaviour per user before $cutoff, for suspicious-activity scoring.
-- NOT MATERIALIZED: each aggregate below scans only the columns it needs, instead of DuckDB
-- holding every column of every event in memory for the CTEs used more than once.
WITH ev AS NOT MATERIALIZED (SELECT * FROM clean.events WHERE event_date < CAST($cutoff AS DATE)),
-- Bursts and session sizes count browsing events only: one order's lines share a timestamp.
browsing AS NOT MATERIALIZED (SELECT * FROM ev WHERE event_type NOT IN ('purchase', 'return')),
per_minute AS (
    SELECT user_id, date_trunc('minute', event_time) AS minute, count(*) AS n FROM browsing GROUP BY ALL
),
per_session AS (SELECT user_id, session_id, count(*) AS n FROM browsing GROUP BY ALL),
per_order AS (
    SELECT user_id, coalesce(order_id, session_id) AS order_key, sum(quantity) AS units,
           CAST(sum(price * quantity) AS DOUBLE) AS value
    FROM ev WHERE event_type = 'purchase' GROUP BY ALL
),
u AS (
    SELECT user_id, count(*) AS events,
           count(*) FILTER (event_type = 'view') AS views,
           count(*) FILTER (event_type IN ('cart', 'purchase')) AS carts_or_purchases,
           count(*) FILTER (event_type = 'purchase') AS purchases,
           count(*) FILTER (event_type = 'return') AS returns,
           count(DISTINCT event_date) AS active_days
    FROM ev GROUP BY user_id
)
SELECT
    u.*,
    coalesce(m.max_events_per_minute, 0) AS max_events_per_minute,
    coalesce(s.sessions, 0) AS sessions, coalesce(s.max_session_events, 0) AS max_session_events,
    coalesce(o.orders, 0) AS orders,
    coalesce(o.max_order_units, 0) AS max_order_units,
    coalesce(o.max_order_value, 0) AS max_order_value
FROM u
LEFT JOIN (SELECT user_id, max(n) AS max_events_per_minute FROM per_minute GROUP BY 1) m USING (user_id)
LEFT JOIN (SELECT user_id, count(*) AS sessions, max(n) AS max_session_events FROM per_session GROUP BY 1) s
  USING (user_id)
LEFT JOIN (SELECT user_id, count(*) AS orders, max(units) AS max_order_units,
                  max(value) AS max_order_value FROM per_order GROUP BY 1) o USING (user_id)
ORDER BY u.user_id;
