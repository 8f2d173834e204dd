-- Users with an event in [$start, $end) (since the model's cutoff), each with their first day.
SELECT user_id, min(event_date) AS first_day FROM clean.events
WHERE event_date >= CAST($start AS DATE) AND event_date < CAST($end AS DATE)
GROUP BY user_id ORDER BY user_id;
