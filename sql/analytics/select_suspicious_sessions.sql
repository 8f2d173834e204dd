-- Sessions before $cutoff with at least $huge_session browsing events, or $burst_per_minute of
-- them in one minute (order lines are not browsing: one order's lines share a timestamp).
WITH ev AS (SELECT * FROM clean.events WHERE event_date < CAST($cutoff AS DATE)
            AND event_type NOT IN ('purchase', 'return')),
s AS (
    SELECT user_id, session_id, count(*) AS events, min(event_time) AS session_start,
           max(n_minute) AS max_events_per_minute
    FROM (SELECT *, count(*) OVER (PARTITION BY user_id, session_id, date_trunc('minute', event_time))
                    AS n_minute FROM ev)
    GROUP BY ALL
)
SELECT user_id, session_id, events, max_events_per_minute, session_start FROM s
WHERE events >= CAST($huge_session AS BIGINT) OR max_events_per_minute >= CAST($burst_per_minute AS BIGINT)
ORDER BY events DESC;
