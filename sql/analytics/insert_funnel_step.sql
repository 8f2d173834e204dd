-- Step $step of every funnel into funnel_reach (see stage_user_funnel), for users who reached
-- step $step - 1. Strict order: the first step-$step event after the time step $step - 1 was
-- reached (at the same instant only when the two steps are different event types, so one event
-- never counts twice), within window_days of entry. Any order: the time the user had done
-- $step distinct steps (the first event of each) within the window.
INSERT INTO funnel_reach
SELECT r.funnel, r.user_id, r.entry_date, $step, min(e.event_time)
FROM funnel_reach r
JOIN funnel_entries en USING (funnel, user_id, entry_date)
JOIN funnel_steps s ON s.funnel = r.funnel AND s.step = $step AND s.strict
JOIN funnel_steps p ON p.funnel = r.funnel AND p.step = $step - 1
JOIN funnel_events e ON e.funnel = r.funnel AND e.user_id = r.user_id AND e.step = $step
    AND (e.event_time > r.reached_at OR (e.event_time = r.reached_at AND p.event_type <> s.event_type))
    AND e.event_time <= en.entry_time + to_days(s.window_days)
WHERE r.step = $step - 1
GROUP BY r.funnel, r.user_id, r.entry_date
UNION ALL
SELECT funnel, user_id, entry_date, $step, t
FROM (
    SELECT funnel, user_id, entry_date, t,
           row_number() OVER (PARTITION BY funnel, user_id, entry_date ORDER BY t, step) AS k
    FROM (
        SELECT en.funnel, en.user_id, en.entry_date, e.step, min(e.event_time) AS t
        FROM funnel_entries en
        JOIN funnel_steps w ON w.funnel = en.funnel AND w.step = 1 AND NOT w.strict
        JOIN funnel_events e ON e.funnel = en.funnel AND e.user_id = en.user_id
            AND e.event_time >= en.entry_time AND e.event_time <= en.entry_time + to_days(w.window_days)
        GROUP BY ALL
    )
)
WHERE k = $step;
