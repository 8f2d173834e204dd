DELETE FROM analytics.daily_sales WHERE event_date >= $start AND event_date < $end;
