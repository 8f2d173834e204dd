-- ml.forecast_backtest: rolling-origin accuracy per series, measure and candidate model.
CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.forecast_backtest (
    series          VARCHAR,
    measure         VARCHAR,
    model           VARCHAR,
    windows         INTEGER,
    horizon_days    INTEGER,
    first_origin    DATE,
    history_end     DATE,
    mae             DOUBLE,
    rmse            DOUBLE,
    smape           DOUBLE,
    mase            DOUBLE,
    mae_vs_seasonal_naive DOUBLE,
    chosen          BOOLEAN,
    error           VARCHAR,
    holdout_mae     DOUBLE,
    holdout_mae_vs_seasonal_naive DOUBLE
);
COMMENT ON TABLE ml.forecast_backtest IS 'Rolling-origin backtest (windows of horizon_days each, ending at history_end) per series, measure and model';
COMMENT ON COLUMN ml.forecast_backtest.series IS 'Series of analytics.daily_sales';
COMMENT ON COLUMN ml.forecast_backtest.measure IS 'revenue or units';
COMMENT ON COLUMN ml.forecast_backtest.model IS 'Candidate model';
COMMENT ON COLUMN ml.forecast_backtest.windows IS 'Backtest windows used (fewer than configured on short series)';
COMMENT ON COLUMN ml.forecast_backtest.horizon_days IS 'Days per window';
COMMENT ON COLUMN ml.forecast_backtest.first_origin IS 'First day forecast in the first window; each window trains only on days before its own origin';
COMMENT ON COLUMN ml.forecast_backtest.history_end IS 'Last day of history (last day of the last window)';
COMMENT ON COLUMN ml.forecast_backtest.mae IS 'Mean absolute error over all windows pooled';
COMMENT ON COLUMN ml.forecast_backtest.rmse IS 'Root mean squared error, pooled';
COMMENT ON COLUMN ml.forecast_backtest.smape IS 'Symmetric MAPE (0..2), pooled; days where actual and forecast are both 0 count as 0';
COMMENT ON COLUMN ml.forecast_backtest.mase IS 'MAE scaled by the in-sample MAE of seasonal naive (period 7) on each window''s training data, averaged over windows';
COMMENT ON COLUMN ml.forecast_backtest.mae_vs_seasonal_naive IS 'mae / mae of seasonal_naive on the same windows';
COMMENT ON COLUMN ml.forecast_backtest.chosen IS 'The model used for the forecast: lowest MAE over every window but the latest (held out)';
COMMENT ON COLUMN ml.forecast_backtest.error IS 'Why a candidate could not be fitted, if it could not';
COMMENT ON COLUMN ml.forecast_backtest.holdout_mae IS 'MAE on the latest window alone, which is held out of the choice (NULL with a single window)';
COMMENT ON COLUMN ml.forecast_backtest.holdout_mae_vs_seasonal_naive IS 'holdout_mae / seasonal naive holdout_mae: the honest judgement of the chosen model';
