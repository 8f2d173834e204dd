-- (user, product) pairs purchased before $cutoff: excluded from recommendations.
SELECT DISTINCT user_id, product_id FROM clean.events
WHERE event_type = 'purchase' AND event_date < CAST($cutoff AS DATE);
