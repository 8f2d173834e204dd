-- Rebuild analytics.channel_attribution from clean events and the temp table marketing_spend
-- (day, channel, spend; see analytics/stage_marketing_spend).
DELETE FROM analytics.channel_attribution;
INSERT INTO analytics.channel_attribution (
    model, order_date, channel, attributed_orders, attributed_revenue, spend, cost_per_order, roas
)
WITH touches AS (
    SELECT user_id, session_id, min(event_time) AS session_start,
           coalesce(
               arg_min(lower(utm_source) || coalesce(' / ' || lower(utm_medium), ''), event_time)
                   FILTER (utm_source IS NOT NULL),
               arg_min('(referral) ' || lower(regexp_extract(referrer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)),
                       event_time)
                   FILTER (regexp_extract(referrer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1) <> ''),
               '(direct)') AS channel
    FROM clean.events
    GROUP BY user_id, session_id
),
orders AS (
    SELECT user_id, coalesce(order_id, session_id) AS order_key, min(event_time) AS order_time,
           arg_min(session_id, event_time) AS order_session, sum(price * quantity) AS revenue
    FROM clean.events WHERE event_type = 'purchase'
    GROUP BY user_id, order_key
),
paths AS (
    SELECT o.user_id, o.order_key, CAST(o.order_time AS DATE) AS order_date, o.revenue, t.channel,
           row_number() OVER w AS pos, count(*) OVER (PARTITION BY o.user_id, o.order_key) AS n
    FROM orders o
    -- the sessions started in the lookback window before the order, and always its own
    JOIN touches t ON t.user_id = o.user_id AND (t.session_id = o.order_session OR (
        t.session_start <= o.order_time
        AND t.session_start >= o.order_time - to_days(CAST($lookback_days AS INTEGER))))
    WINDOW w AS (PARTITION BY o.user_id, o.order_key ORDER BY t.session_start, t.session_id)
),
models AS (SELECT unnest(['first_touch', 'last_touch', 'linear', 'position_based']) AS model),
credits AS (
    SELECT m.model, p.order_date, p.channel, p.revenue,
           CASE m.model
               WHEN 'first_touch' THEN CASE WHEN p.pos = 1 THEN 1.0 ELSE 0.0 END
               WHEN 'last_touch' THEN CASE WHEN p.pos = p.n THEN 1.0 ELSE 0.0 END
               WHEN 'linear' THEN 1.0 / p.n
               ELSE CASE
                   WHEN p.n = 1 THEN 1.0
                   WHEN p.n = 2 THEN 0.5
                   WHEN p.pos = 1 OR p.pos = p.n THEN 0.4
                   ELSE 0.2 / (p.n - 2)
               END
           END AS credit
    FROM paths p, models m
),
attributed AS (
    SELECT model, order_date, channel, sum(credit) AS orders,
           CAST(sum(credit * CAST(revenue AS DOUBLE)) AS DECIMAL(38, 4)) AS revenue
    FROM credits WHERE credit > 0
    GROUP BY ALL
),
spend AS (
    SELECT m.model, s.day AS order_date, s.channel, sum(s.spend) AS spend
    FROM marketing_spend s, models m
    GROUP BY ALL
)
SELECT model, order_date, channel, coalesce(a.orders, 0), a.revenue, s.spend,
       s.spend / nullif(a.orders, 0), a.revenue / nullif(s.spend, 0)
FROM attributed a
FULL JOIN spend s USING (model, order_date, channel)
ORDER BY model, order_date, channel;
