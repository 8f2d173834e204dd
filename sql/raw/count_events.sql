SELECT count(*) FROM raw.events WHERE event_date >= $start AND event_date < $end;
