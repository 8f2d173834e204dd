SELECT reason, count(*) AS rows FROM clean.quarantine
WHERE event_date >= $start AND event_date < $end
GROUP BY reason ORDER BY rows DESC, reason;
