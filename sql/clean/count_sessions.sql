-- Distinct sessions among the clean events of [$start, $end).
SELECT count(DISTINCT session_id) AS sessions
FROM clean.events
WHERE event_date >= $start AND event_date < $end;
