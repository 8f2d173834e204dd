-- Products bought in [$start, $end) that the user had not bought before $start.
SELECT DISTINCT e.user_id, e.product_id FROM clean.events e
WHERE e.event_type = 'purchase' AND e.event_date >= CAST($start AS DATE) AND e.event_date < CAST($end AS DATE)
  AND NOT EXISTS (SELECT 1 FROM clean.events p
                  WHERE p.event_type = 'purchase' AND p.event_date < CAST($start AS DATE)
                    AND p.user_id = e.user_id AND p.product_id = e.product_id);
