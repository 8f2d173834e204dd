DELETE FROM clean.quarantine WHERE event_date >= $start AND event_date < $end;
