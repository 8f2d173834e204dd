-- The daily KPI check of analytics.daily_funnel (category '(all)'), per day of [$start, $end):
-- sessions, revenue and session conversion, each next to the median of the same weekday over
-- the $weeks weeks before, counting only weekdays that had sessions (a closed day is no
-- baseline). `latest` marks the latest day with events, which may still be filling up.
WITH kpis AS (
    SELECT event_date, sessions, CAST(revenue AS DOUBLE) AS revenue, session_conversion_rate
    FROM analytics.daily_funnel
    WHERE category = '(all)' AND event_date >= CAST($start AS DATE) - 7 * $weeks
      AND event_date < $end
), days AS (
    SELECT CAST(r.day AS DATE) AS event_date, coalesce(k.sessions, 0) AS sessions, k.revenue,
           k.session_conversion_rate
    FROM range(CAST($start AS DATE) - 7 * $weeks, CAST($end AS DATE), INTERVAL 1 DAY) r(day)
    LEFT JOIN kpis k ON k.event_date = CAST(r.day AS DATE)
)
SELECT t.event_date, t.sessions, t.revenue, t.session_conversion_rate,
       median(b.sessions) AS baseline_sessions,
       median(b.revenue) AS baseline_revenue,
       median(b.session_conversion_rate) AS baseline_session_conversion_rate,
       count(b.event_date) AS baseline_days,
       t.event_date = (SELECT max(event_date) FROM clean.events) AS latest
FROM days t
LEFT JOIN days b ON b.sessions > 0 AND b.event_date < t.event_date
    AND b.event_date >= t.event_date - 7 * $weeks AND (t.event_date - b.event_date) % 7 = 0
WHERE t.event_date >= $start
GROUP BY t.event_date, t.sessions, t.revenue, t.session_conversion_rate
ORDER BY t.event_date;
