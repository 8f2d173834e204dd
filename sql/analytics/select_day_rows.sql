-- Clean events per day of [$start, $end), to cut the window into batches of days.
SELECT event_date, count(*) AS n
FROM clean.events
WHERE event_date >= $start AND event_date < $end
GROUP BY event_date
ORDER BY event_date;
