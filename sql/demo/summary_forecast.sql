-- The demo's closing summary: the chosen model for total revenue against seasonal naive, pooled
-- over the backtest windows and on the held-out latest window.
SELECT c.model, c.windows, c.mae, n.mae AS naive_mae, c.mae_vs_seasonal_naive,
       c.holdout_mae, n.holdout_mae AS naive_holdout_mae, c.holdout_mae_vs_seasonal_naive
FROM ml.forecast_backtest c
JOIN ml.forecast_backtest n ON n.series = c.series AND n.measure = c.measure AND n.model = 'seasonal_naive'
WHERE c.series = 'total' AND c.measure = 'revenue' AND c.chosen;
