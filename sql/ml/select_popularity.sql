-- Distinct buyers per product in the $days days before $cutoff (distinct users with any event
-- when the source has no purchases in that window).
WITH w AS (
    SELECT * FROM clean.events
    WHERE event_date < CAST($cutoff AS DATE) AND event_date >= CAST($cutoff AS DATE) - CAST($days AS INTEGER)
),
has_buys AS (SELECT count(*) FILTER (event_type = 'purchase') > 0 AS yes FROM w)
SELECT product_id, count(DISTINCT user_id) AS users
FROM w, has_buys
WHERE event_type = 'purchase' OR NOT has_buys.yes
GROUP BY product_id
ORDER BY users DESC, product_id;
