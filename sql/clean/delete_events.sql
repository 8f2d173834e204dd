DELETE FROM clean.events WHERE event_date >= $start AND event_date < $end;
