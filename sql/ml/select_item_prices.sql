-- The ranker's price feature: each product's median unit price over the events in
-- [$start, $cutoff) that carry one (products without a price there are left out).
SELECT product_id, CAST(median(price) AS DOUBLE) AS price
FROM clean.events
WHERE price IS NOT NULL AND event_date >= CAST($start AS DATE) AND event_date < CAST($cutoff AS DATE)
GROUP BY product_id;
