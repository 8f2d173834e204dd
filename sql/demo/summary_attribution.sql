-- The demo's closing summary: per attribution model, the channels' share of revenue and, where
-- spend was landed, return on ad spend, over the whole period.
SELECT model, channel, sum(attributed_revenue) / sum(sum(attributed_revenue)) OVER (PARTITION BY model) AS revenue_share,
       CAST(sum(attributed_revenue) AS DOUBLE) AS revenue, CAST(sum(spend) AS DOUBLE) AS spend,
       CAST(sum(attributed_revenue) / nullif(sum(spend), 0) AS DOUBLE) AS roas
FROM analytics.channel_attribution
GROUP BY model, channel
ORDER BY model, revenue DESC NULLS LAST, channel;
