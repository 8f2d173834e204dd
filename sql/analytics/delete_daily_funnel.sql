DELETE FROM analytics.daily_funnel WHERE event_date >= $start AND event_date < $end;
