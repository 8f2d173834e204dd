-- co_visitation's baskets: each session (else order) in [$start, $end) with each of its products
-- once, weighted by the product's strongest event there (purchase or cart 1, view or favorite
-- 0.25) and by recency, 0.5 ^ (age in days / $half_life_days) counted back from the window's last
-- day (no decay when $half_life_days is 0). Baskets of more than $max_products products (bots,
-- catalogue crawls) are left out: their pairs would swamp everyone else's.
WITH items AS (
    SELECT coalesce(session_id, order_id) AS basket, product_id,
           max(CASE WHEN event_type IN ('purchase', 'cart') THEN 1.0
                    WHEN event_type IN ('view', 'favorite') THEN 0.25 ELSE 0 END) AS strength,
           max(event_date) AS day
    FROM clean.events
    WHERE event_date >= CAST($start AS DATE) AND event_date < CAST($end AS DATE)
      AND coalesce(session_id, order_id) IS NOT NULL AND product_id IS NOT NULL
    GROUP BY ALL
)
SELECT basket, product_id,
       CAST(strength * CASE WHEN CAST($half_life_days AS DOUBLE) > 0
                            THEN pow(0.5, (CAST($end AS DATE) - 1 - day) / CAST($half_life_days AS DOUBLE))
                            ELSE 1 END AS FLOAT) AS weight
FROM items
WHERE strength > 0
QUALIFY count(*) OVER (PARTITION BY basket) BETWEEN 2 AND CAST($max_products AS INTEGER)
ORDER BY basket, product_id;
