-- Funnel rows in [$start, $end) with a rate outside [0, 1].
SELECT event_date, category FROM analytics.daily_funnel
WHERE event_date >= $start AND event_date < $end
  AND (view_to_cart_rate NOT BETWEEN 0 AND 1 OR cart_to_purchase_rate NOT BETWEEN 0 AND 1
       OR session_conversion_rate NOT BETWEEN 0 AND 1 OR user_conversion_rate NOT BETWEEN 0 AND 1
       OR cart_abandonment_rate NOT BETWEEN 0 AND 1);
