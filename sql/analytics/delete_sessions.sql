DELETE FROM analytics.sessions WHERE session_date >= $start AND session_date < $end;
