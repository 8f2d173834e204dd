-- buy_again's inputs: per (user, product) purchased in [$start, $cutoff), the distinct purchase
-- days, the days from the first to the last, and the days from the last to $cutoff.
SELECT user_id, product_id,
       count(DISTINCT event_date) AS days,
       max(event_date) - min(event_date) AS span,
       CAST($cutoff AS DATE) - max(event_date) AS since
FROM clean.events
WHERE event_type = 'purchase' AND event_date >= CAST($start AS DATE) AND event_date < CAST($cutoff AS DATE)
GROUP BY ALL;
