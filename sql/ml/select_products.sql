-- The catalogue: every product seen, with its text (name and category: each its most frequent
-- value, ties to the first in sort order; '' where there is none) and its number of users.
WITH names AS (
    SELECT product_id, product_name FROM (
        SELECT product_id, product_name, count(*) AS n FROM clean.events
        WHERE product_name IS NOT NULL GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY n DESC, product_name) = 1
),
categories AS (
    SELECT product_id, category FROM (
        SELECT product_id, category, count(*) AS n FROM clean.events
        WHERE category IS NOT NULL GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY n DESC, category) = 1
),
users AS (
    SELECT product_id, count(DISTINCT user_id) AS users FROM clean.events GROUP BY product_id
)
SELECT u.product_id, coalesce(n.product_name, '') AS product_name,
       coalesce(c.category, '') AS category, u.users
FROM users u LEFT JOIN names n USING (product_id) LEFT JOIN categories c USING (product_id)
ORDER BY u.product_id;
