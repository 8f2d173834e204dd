-- The funnel over the latest 28 days, overall ('(all)') and per category.
CREATE OR REPLACE VIEW analytics.funnel_28d_by_category AS
WITH last AS (SELECT max(event_date) AS d FROM analytics.daily_funnel WHERE sessions > 0)
SELECT
    category,
    sum(sessions) AS sessions,
    sum(sessions_with_view) AS sessions_with_view,
    sum(sessions_with_cart) AS sessions_with_cart,
    sum(sessions_with_purchase) AS sessions_with_purchase,
    sum(sessions_with_cart) / nullif(sum(sessions_with_view), 0) AS view_to_cart_rate,
    sum(sessions_with_purchase) / nullif(sum(sessions_with_cart), 0) AS cart_to_purchase_rate,
    sum(sessions_with_purchase) / nullif(sum(sessions), 0) AS session_conversion_rate,
    sum(orders) AS orders,
    sum(revenue) AS revenue,
    sum(revenue) / nullif(sum(orders), 0) AS average_order_value,
    sum(abandoned_cart_value) AS abandoned_cart_value
FROM analytics.daily_funnel, last
WHERE event_date > last.d - 28 AND event_date <= last.d
GROUP BY category
ORDER BY category <> '(all)', revenue DESC NULLS LAST;
