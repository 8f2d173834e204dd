-- What the source has at all (decides which columns can be filled): view and cart events, prices.
SELECT
    coalesce(bool_or(event_type = 'view'), false) AS has_views,
    coalesce(bool_or(event_type = 'cart'), false) AS has_carts,
    coalesce(bool_or(has_price), false) AS has_prices
FROM (SELECT event_type, bool_or(price IS NOT NULL) AS has_price FROM clean.events GROUP BY 1);
