-- Sessions before $cutoff with at least $huge_session browsing events, or $burst_per_minute of
-- them in one minute (order lines are not browsing: one order's lines share a timestamp).
-- Two aggregates (per minute, then per session), never a window over every event.
WITH per_minute AS (
    SELECT user_id, session_id, date_trunc('minute', event_time) AS minute, count(*) AS n,
           min(event_time) AS first_time
    FROM clean.events
    WHERE event_date < CAST($cutoff AS DATE) AND event_type NOT IN ('purchase', 'return')
    GROUP BY ALL
),
s AS (
    SELECT user_id, session_id, CAST(sum(n) AS BIGINT) AS events, min(first_time) AS session_start,
           max(n) AS max_events_per_minute
    FROM per_minute GROUP BY ALL
)
SELECT user_id, session_id, events, max_events_per_minute, session_start FROM s
WHERE events >= CAST($huge_session AS BIGINT) OR max_events_per_minute >= CAST($burst_per_minute AS BIGINT)
ORDER BY events DESC;
