-- The overall funnel of the latest day with sessions in [$start, $end), for the chart.
SELECT * FROM analytics.daily_funnel
WHERE category = '(all)' AND sessions > 0 AND event_date >= $start AND event_date < $end
ORDER BY event_date DESC LIMIT 1;
