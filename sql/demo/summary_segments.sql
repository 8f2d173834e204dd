-- The demo's closing summary: RFM segments by size.
SELECT segment, users, revenue_share FROM analytics.segment_summary ORDER BY users DESC, segment;
