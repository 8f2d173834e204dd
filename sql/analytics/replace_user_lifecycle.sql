-- Rebuild analytics.user_lifecycle from clean events: every week from the first active week to
-- the last, weeks without any activity included (their users are dormant, then resurrect).
DELETE FROM analytics.user_lifecycle;
INSERT INTO analytics.user_lifecycle (
    activity, week, active_users, new_users, returning_users, resurrecting_users, dormant_users,
    quick_ratio, complete_week
)
WITH active AS (
    SELECT DISTINCT 'any' AS activity, user_id, CAST(date_trunc('week', event_date) AS DATE) AS week
    FROM clean.events
    UNION ALL
    SELECT DISTINCT 'purchase', user_id, CAST(date_trunc('week', event_date) AS DATE)
    FROM clean.events WHERE event_type = 'purchase'
),
firsts AS (SELECT activity, user_id, min(week) AS first_week FROM active GROUP BY ALL),
weeks AS (
    SELECT activity, CAST(unnest(generate_series(min(week), max(week), INTERVAL 7 DAY)) AS DATE) AS week
    FROM active GROUP BY activity
),
-- each active user-week, and whether the user was active the week before
flagged AS (
    SELECT a.activity, a.week, a.week = f.first_week AS is_new,
           p.user_id IS NOT NULL AS was_active
    FROM active a
    JOIN firsts f USING (activity, user_id)
    LEFT JOIN active p ON p.activity = a.activity AND p.user_id = a.user_id AND p.week = a.week - 7
),
counts AS (
    SELECT activity, week, count(*) AS active_users,
           count(*) FILTER (is_new) AS new_users,
           count(*) FILTER (NOT is_new AND was_active) AS returning_users,
           count(*) FILTER (NOT is_new AND NOT was_active) AS resurrecting_users
    FROM flagged GROUP BY ALL
),
-- active the week before and not this week
dormant AS (
    SELECT p.activity, p.week + 7 AS week, count(*) AS dormant_users
    FROM active p
    LEFT JOIN active a ON a.activity = p.activity AND a.user_id = p.user_id AND a.week = p.week + 7
    WHERE a.user_id IS NULL
    GROUP BY ALL
),
last_day AS (SELECT max(event_date) AS d FROM clean.events)
SELECT w.activity, w.week, coalesce(c.active_users, 0), coalesce(c.new_users, 0),
       coalesce(c.returning_users, 0), coalesce(c.resurrecting_users, 0),
       coalesce(d.dormant_users, 0),
       (coalesce(c.new_users, 0) + coalesce(c.resurrecting_users, 0)) / nullif(d.dormant_users, 0),
       w.week + 6 <= (SELECT d FROM last_day)
FROM weeks w
LEFT JOIN counts c USING (activity, week)
LEFT JOIN dormant d USING (activity, week)
ORDER BY w.activity, w.week;
