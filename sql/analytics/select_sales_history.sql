-- Daily sales per series up to the latest complete day (the day before the latest day with
-- events, which may still be filling up).
SELECT series, event_date, CAST(revenue AS DOUBLE) AS revenue, CAST(units AS DOUBLE) AS units
FROM analytics.daily_sales
WHERE event_date < (SELECT max(event_date) FROM clean.events)
  AND event_date >= (SELECT min(event_date) FROM clean.events)
ORDER BY series, event_date;
