-- Event ids of [$start, $end) that appear more than once in the whole of clean.events: twice
-- within the window, or also on a day outside it (the window's ids probed against the rest).
WITH w AS (SELECT event_id FROM clean.events WHERE event_date >= $start AND event_date < $end)
SELECT (SELECT count(*) FROM (SELECT event_id FROM w GROUP BY event_id HAVING count(*) > 1))
     + (SELECT count(DISTINCT event_id) FROM clean.events
        WHERE (event_date < $start OR event_date >= $end)
          AND event_id IN (SELECT event_id FROM w));
