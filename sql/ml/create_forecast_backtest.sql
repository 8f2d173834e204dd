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
    holdout_mae_vs_seasonal_naive DOUBLE,
    coverage_80     DOUBLE,
    coverage_95     DOUBLE,
    interval_score  DOUBLE,
    coverage_80_calibrated DOUBLE,
    coverage_95_calibrated DOUBLE,
    interval_score_calibrated DOUBLE,
    interval_scale_80 DOUBLE,
    interval_scale_95 DOUBLE,
    choice_metric   VARCHAR,
    gain_low        DOUBLE,
    gain_high       DOUBLE,
    mae_reconciled  DOUBLE,
    promotion_mae   DOUBLE
);
COMMENT ON TABLE ml.forecast_backtest IS 'Rolling-origin backtest (windows of horizon_days each, ending at history_end) per series, measure and model';
COMMENT ON COLUMN ml.forecast_backtest.series IS 'Series of analytics.daily_sales';
COMMENT ON COLUMN ml.forecast_backtest.measure IS 'revenue or units';
COMMENT ON COLUMN ml.forecast_backtest.model IS 'Candidate model (sarimax_calendar: SARIMAX with the calendar''s promotion and holiday flags as regressors)';
COMMENT ON COLUMN ml.forecast_backtest.windows IS 'Backtest windows used (fewer than configured on short series)';
COMMENT ON COLUMN ml.forecast_backtest.horizon_days IS 'Days per window';
COMMENT ON COLUMN ml.forecast_backtest.first_origin IS 'First day forecast in the first window; each window trains only on days before its own origin';
COMMENT ON COLUMN ml.forecast_backtest.history_end IS 'Last day of history (last day of the last window)';
COMMENT ON COLUMN ml.forecast_backtest.mae IS 'Mean absolute error over all windows pooled';
COMMENT ON COLUMN ml.forecast_backtest.rmse IS 'Root mean squared error, pooled';
COMMENT ON COLUMN ml.forecast_backtest.smape IS 'Symmetric MAPE (0..2), pooled; days where actual and forecast are both 0 count as 0';
COMMENT ON COLUMN ml.forecast_backtest.mase IS 'MAE scaled by the in-sample MAE of seasonal naive (period 7) on each window''s training data, averaged over windows';
COMMENT ON COLUMN ml.forecast_backtest.mae_vs_seasonal_naive IS 'mae / mae of seasonal_naive on the same windows';
COMMENT ON COLUMN ml.forecast_backtest.chosen IS 'The model used for the forecast, judged on every window but the latest (held out): seasonal naive (croston on sparse series) unless another model''s gain over it is sure (gain_low > 0), and then the sure model with the lowest loss';
COMMENT ON COLUMN ml.forecast_backtest.error IS 'Why a candidate could not be fitted, if it could not';
COMMENT ON COLUMN ml.forecast_backtest.holdout_mae IS 'MAE on the latest window alone, which is held out of the choice (NULL with a single window)';
COMMENT ON COLUMN ml.forecast_backtest.holdout_mae_vs_seasonal_naive IS 'holdout_mae / seasonal naive holdout_mae: the honest judgement of the chosen model';
COMMENT ON COLUMN ml.forecast_backtest.coverage_80 IS 'Share of backtest days (every window; days forecast with certainty, i.e. closed weekdays, left out) whose actual lies in the model''s own 80% interval';
COMMENT ON COLUMN ml.forecast_backtest.coverage_95 IS 'Share of backtest days whose actual lies in the model''s own 95% interval';
COMMENT ON COLUMN ml.forecast_backtest.interval_score IS 'Mean scaled interval score of the 80% interval: (upper - lower) + 10 x the distance by which the actual falls outside, divided by the in-sample MAE of seasonal naive (lower is better)';
COMMENT ON COLUMN ml.forecast_backtest.coverage_80_calibrated IS 'coverage_80 of the intervals rescaled by split-conformal scaling, each window calibrated on the other windows only (NULL with one window)';
COMMENT ON COLUMN ml.forecast_backtest.coverage_95_calibrated IS 'coverage_95 of the calibrated intervals (each window calibrated on the others)';
COMMENT ON COLUMN ml.forecast_backtest.interval_score_calibrated IS 'interval_score of the calibrated intervals (each window calibrated on the others); the chosen model''s forecast uses calibrated intervals when this is lower than interval_score';
COMMENT ON COLUMN ml.forecast_backtest.interval_scale_80 IS 'Factor on the 80% half-widths from every window (applied to the forecast when calibration helps)';
COMMENT ON COLUMN ml.forecast_backtest.interval_scale_95 IS 'Factor on the 95% half-widths from every window';
COMMENT ON COLUMN ml.forecast_backtest.choice_metric IS 'Loss the choice compares: mae, or mse on sparse series (at least half the days without sales)';
COMMENT ON COLUMN ml.forecast_backtest.gain_low IS 'Lower end of the 90% bootstrap interval (weekly blocks of the selection windows) of the loss per day saved over the baseline: seasonal naive, or croston on sparse series (0 for the baseline)';
COMMENT ON COLUMN ml.forecast_backtest.gain_high IS 'Upper end of that interval';
COMMENT ON COLUMN ml.forecast_backtest.mae_reconciled IS 'Chosen model of a category series: MAE over every window after scaling the categories to sum to the total''s backtest forecast (compare with mae)';
COMMENT ON COLUMN ml.forecast_backtest.promotion_mae IS 'MAE on the backtest days the calendar marks as a promotion for the series (NULL without such days)';
