-- Remove the partition window [$start, $end) before it is reloaded.
DELETE FROM raw.events WHERE event_date >= $start AND event_date < $end;
