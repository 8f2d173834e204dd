-- Stage the funnels (temp table funnel_steps, one row per step) for users entering on days
-- [$start, $end): the matching events up to $max_window days after, the entries (each user's
-- first step-1 event of a day) and step 1 of funnel_reach. Later steps: insert_funnel_steps.
CREATE OR REPLACE TEMP TABLE funnel_events AS
SELECT s.funnel, s.step, e.user_id, e.event_time, e.event_date, e.session_id, e.category,
       e.device, e.country
FROM clean.events e
JOIN funnel_steps s ON e.event_type = s.event_type
    AND (s.category IS NULL OR e.category = s.category)
    AND (s.brand IS NULL OR e.brand = s.brand)
    AND (s.product_id IS NULL OR e.product_id = s.product_id)
    AND (s.utm_source IS NULL OR e.utm_source = s.utm_source)
    AND (s.utm_medium IS NULL OR e.utm_medium = s.utm_medium)
    AND (s.device IS NULL OR e.device = s.device)
    AND (s.country IS NULL OR e.country = s.country)
WHERE e.event_date >= $start AND e.event_date < CAST($end AS DATE) + CAST($max_window AS INTEGER) + 1;

CREATE OR REPLACE TEMP TABLE funnel_entries AS
SELECT funnel, user_id, event_date AS entry_date, min(event_time) AS entry_time,
       arg_min(session_id, event_time) AS entry_session, arg_min(category, event_time) AS category,
       arg_min(device, event_time) AS device, arg_min(country, event_time) AS country
FROM funnel_events
WHERE step = 1 AND event_date >= $start AND event_date < $end
GROUP BY funnel, user_id, event_date;

CREATE OR REPLACE TEMP TABLE funnel_reach AS
SELECT funnel, user_id, entry_date, 1 AS step, entry_time AS reached_at FROM funnel_entries;
