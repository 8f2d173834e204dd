-- Version 10: forecast intervals scored and calibrated on the backtest, the model choice's
-- uncertainty, reconciled categories, the calendar's promotion days.
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS coverage_80 DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS coverage_95 DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS interval_score DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS coverage_80_calibrated DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS coverage_95_calibrated DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS interval_score_calibrated DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS interval_scale_80 DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS interval_scale_95 DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS choice_metric VARCHAR;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS gain_low DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS gain_high DOUBLE;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS mae_reconciled DOUBLE;
ALTER TABLE IF EXISTS ml.sales_forecasts ADD COLUMN IF NOT EXISTS intervals VARCHAR;
ALTER TABLE IF EXISTS ml.sales_forecasts ADD COLUMN IF NOT EXISTS reconciled BOOLEAN;
ALTER TABLE IF EXISTS ml.forecast_backtest ADD COLUMN IF NOT EXISTS promotion_mae DOUBLE;
