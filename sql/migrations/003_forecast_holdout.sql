-- Version 3: the forecast choice is judged on a held-out window.
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS holdout_mae DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS holdout_mae_vs_seasonal_naive DOUBLE;
