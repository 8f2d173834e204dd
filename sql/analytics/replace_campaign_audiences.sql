-- Target lists as of $cutoff. Abandoned carts look back $days days.
DELETE FROM analytics.campaign_audiences;
INSERT INTO analytics.campaign_audiences (audience, user_id, segment, propensity, expected_value, reason, rank, cutoff_date)
WITH flagged AS (
    SELECT user_id FROM analytics.suspicious_activity WHERE level = 'user' AND flagged
),
f AS (SELECT * FROM analytics.user_features WHERE user_id NOT IN (SELECT user_id FROM flagged)),
p AS (SELECT user_id, score FROM analytics.purchase_propensity),
seg AS (SELECT user_id, segment FROM analytics.user_segments),
cv AS (SELECT user_id, days_between_orders FROM analytics.customer_value),
abandoned AS (
    SELECT user_id, max(session_start) AS last_abandoned, sum(abandoned_cart_value) AS value,
           count(*) AS sessions
    FROM analytics.sessions
    WHERE cart_abandoned AND session_date >= CAST($cutoff AS DATE) - CAST($days AS INTEGER)
      AND session_date < CAST($cutoff AS DATE)
    GROUP BY user_id
),
bought_after AS (
    SELECT DISTINCT e.user_id FROM clean.events e JOIN abandoned a USING (user_id)
    WHERE e.event_type = 'purchase' AND e.event_time > a.last_abandoned
      AND e.event_date < CAST($cutoff AS DATE)
),
value_cut AS (
    SELECT quantile_cont(monetary, 0.8) AS q80 FROM f WHERE frequency > 0
),
lists AS (
    SELECT 'abandoned_cart' AS audience, a.user_id,
           CAST(coalesce(a.value, f.average_basket) AS DOUBLE) AS value,
           'left ' || coalesce(printf('%.2f', a.value), 'items') || ' in ' || a.sessions
               || ' abandoned cart(s), last on ' || strftime(a.last_abandoned, '%Y-%m-%d')
               || ', no purchase since' AS reason
    FROM abandoned a JOIN f USING (user_id)
    WHERE a.user_id NOT IN (SELECT user_id FROM bought_after)
    UNION ALL
    SELECT 'high_value_at_risk', f.user_id, f.average_basket,
           'top 20% by revenue (' || printf('%.2f', f.monetary) || '), no order for '
               || f.recency_days || ' days, usually every '
               || coalesce(printf('%.0f', cv.days_between_orders), '?') || ' days'
    FROM f CROSS JOIN value_cut LEFT JOIN cv USING (user_id)
    WHERE f.frequency > 0 AND f.monetary >= value_cut.q80
      AND f.recency_days > greatest(60, 2 * coalesce(cv.days_between_orders, 30))
    UNION ALL
    SELECT 'second_order_due', f.user_id, f.average_basket,
           'one order, ' || f.recency_days || ' days ago'
    FROM f
    WHERE f.frequency = 1 AND f.recency_days BETWEEN 14 AND 60
)
SELECT l.audience, l.user_id, seg.segment, p.score, p.score * l.value, l.reason,
       rank() OVER (PARTITION BY l.audience ORDER BY p.score * l.value DESC NULLS LAST,
                    p.score DESC NULLS LAST, l.user_id),
       CAST($cutoff AS DATE)
FROM lists l LEFT JOIN p USING (user_id) LEFT JOIN seg USING (user_id)
ORDER BY l.audience, 7;
