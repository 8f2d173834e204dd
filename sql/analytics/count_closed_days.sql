SELECT count(*) FROM analytics.daily_sales
WHERE series = 'total' AND shop_closed AND event_date >= $start AND event_date < $end;
