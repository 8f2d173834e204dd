-- The repeat task's relevant items: every (user, product) purchased in [$start, $end), products
-- the user had bought before included.
SELECT DISTINCT user_id, product_id FROM clean.events
WHERE event_type = 'purchase' AND event_date >= CAST($start AS DATE) AND event_date < CAST($end AS DATE);
