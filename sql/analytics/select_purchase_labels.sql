-- Users who purchase in [$cutoff, $cutoff + $horizon_days): the label for propensity training.
SELECT DISTINCT user_id FROM clean.events
WHERE event_type = 'purchase'
  AND event_date >= CAST($cutoff AS DATE)
  AND event_date < CAST($cutoff AS DATE) + CAST($horizon_days AS INTEGER);
