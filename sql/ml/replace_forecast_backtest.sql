-- Replace the backtest with the frame registered as `incoming`.
DELETE FROM ml.forecast_backtest;
INSERT INTO ml.forecast_backtest BY NAME SELECT * FROM incoming;
