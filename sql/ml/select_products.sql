-- The catalogue: every product seen, with its text (name and category) and number of users.
SELECT product_id, coalesce(mode(product_name ORDER BY product_name), '') AS product_name,
       coalesce(mode(category ORDER BY category), '') AS category, count(DISTINCT user_id) AS users
FROM clean.events GROUP BY product_id ORDER BY product_id;
