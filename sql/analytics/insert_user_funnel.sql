-- analytics.user_funnel rows from funnel_reach (see stage_user_funnel and insert_funnel_step),
-- per breakdown of the entry event.
INSERT INTO analytics.user_funnel
WITH entry_channel AS (
    -- the channel of each entry's session, as analytics/replace_channel_attribution defines it
    SELECT e.user_id, e.session_id,
           coalesce(
               arg_min(lower(e.utm_source) || coalesce(' / ' || lower(e.utm_medium), ''), e.event_time)
                   FILTER (e.utm_source IS NOT NULL),
               arg_min('(referral) ' || lower(regexp_extract(e.referrer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)),
                       e.event_time)
                   FILTER (regexp_extract(e.referrer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1) <> ''),
               '(direct)') AS channel
    FROM clean.events e
    SEMI JOIN funnel_entries en ON en.user_id = e.user_id AND en.entry_session = e.session_id
    WHERE e.event_date >= CAST($start AS DATE) - 1 AND e.event_date < CAST($end AS DATE) + 1
    GROUP BY e.user_id, e.session_id
),
first_seen AS (
    SELECT user_id, min(event_date) AS first_day FROM clean.events
    SEMI JOIN (SELECT DISTINCT user_id FROM funnel_entries) USING (user_id)
    GROUP BY user_id
),
dims AS (
    SELECT en.funnel, en.user_id, en.entry_date, d.breakdown, d.value AS breakdown_value
    FROM funnel_entries en
    LEFT JOIN entry_channel c ON c.user_id = en.user_id AND c.session_id = en.entry_session
    LEFT JOIN first_seen f ON f.user_id = en.user_id,
    LATERAL (SELECT unnest([
        {'breakdown': 'all', 'value': '(all)'},
        {'breakdown': 'category', 'value': coalesce(en.category, '(none)')},
        {'breakdown': 'channel', 'value': coalesce(c.channel, '(direct)')},
        {'breakdown': 'device', 'value': coalesce(en.device, '(none)')},
        {'breakdown': 'country', 'value': coalesce(en.country, '(none)')},
        {'breakdown': 'user_type', 'value': CASE WHEN f.first_day < en.entry_date THEN 'returning' ELSE 'new' END}
    ], recursive := true)) d
),
steps AS (
    SELECT d.funnel, d.entry_date, d.breakdown, d.breakdown_value, s.step, s.step_name, s.steps,
           r.reached_at, n.reached_at AS next_at
    FROM dims d
    JOIN funnel_steps s ON s.funnel = d.funnel
    JOIN funnel_reach r ON r.funnel = d.funnel AND r.user_id = d.user_id
        AND r.entry_date = d.entry_date AND r.step = s.step
    LEFT JOIN funnel_reach n ON n.funnel = d.funnel AND n.user_id = d.user_id
        AND n.entry_date = d.entry_date AND n.step = s.step + 1
),
counted AS (
    SELECT funnel, entry_date, breakdown, breakdown_value, step, step_name, any_value(steps) AS steps,
           count(*) AS entered, count(next_at) AS converted,
           quantile_cont(epoch(next_at - reached_at) / 3600.0, 0.5) AS p50,
           quantile_cont(epoch(next_at - reached_at) / 3600.0, 0.9) AS p90
    FROM steps GROUP BY ALL
)
SELECT funnel, entry_date, breakdown, breakdown_value, step, step_name, entered,
       CASE WHEN step < steps THEN converted END,
       CASE WHEN step < steps THEN entered - converted END,
       CASE WHEN step < steps THEN converted / entered END,
       entered / first_value(entered) OVER (PARTITION BY funnel, entry_date, breakdown, breakdown_value ORDER BY step),
       p50, p90
FROM counted
ORDER BY funnel, entry_date, breakdown, breakdown_value, step;
