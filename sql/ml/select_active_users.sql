-- Users with an event in the $days days before $cutoff.
SELECT DISTINCT user_id FROM clean.events
WHERE event_date < CAST($cutoff AS DATE) AND event_date >= CAST($cutoff AS DATE) - CAST($days AS INTEGER)
ORDER BY user_id;
