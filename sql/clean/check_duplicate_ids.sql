-- Event ids that appear more than once in clean.events within [$start, $end).
SELECT count(*) FROM (
    SELECT event_id FROM clean.events
    WHERE event_date >= $start AND event_date < $end
    GROUP BY event_id HAVING count(*) > 1
);
