-- Summaries of analytics.user_segments; conversion over the 28 days before $cutoff.
DELETE FROM analytics.segment_summary;
INSERT INTO analytics.segment_summary (
    segment, users, user_share, revenue, revenue_share, conversion_rate, avg_recency_days,
    avg_frequency, avg_monetary
)
WITH seg AS (SELECT * FROM analytics.user_segments),
sess AS (
    SELECT user_id, session_id, bool_or(event_type = 'purchase') AS bought
    FROM clean.events
    WHERE event_date < CAST($cutoff AS DATE) AND event_date >= CAST($cutoff AS DATE) - 28
      AND event_type IN ('view', 'cart', 'purchase')
    GROUP BY ALL
),
conv AS (
    SELECT s.segment, avg(CASE WHEN x.bought THEN 1.0 ELSE 0.0 END) AS conversion_rate
    FROM sess x JOIN seg s USING (user_id) GROUP BY 1
)
SELECT seg.segment, count(*), count(*) / sum(count(*)) OVER (),
       sum(seg.monetary), sum(seg.monetary) / nullif(sum(sum(seg.monetary)) OVER (), 0),
       any_value(conv.conversion_rate), avg(seg.recency_days), avg(seg.frequency), avg(seg.monetary)
FROM seg LEFT JOIN conv USING (segment)
GROUP BY seg.segment
ORDER BY sum(seg.monetary) DESC;
