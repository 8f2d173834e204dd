-- ml.sales_forecasts: the next days of revenue and units per series, with prediction intervals.
CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.sales_forecasts (
    series          VARCHAR,
    measure         VARCHAR,
    forecast_date   DATE,
    horizon         INTEGER,
    model           VARCHAR,
    forecast        DOUBLE,
    lower_80        DOUBLE,
    upper_80        DOUBLE,
    lower_95        DOUBLE,
    upper_95        DOUBLE,
    history_end     DATE,
    intervals       VARCHAR,
    reconciled      BOOLEAN
);
COMMENT ON TABLE ml.sales_forecasts IS 'Daily forecasts of revenue and units per series with 80% and 95% prediction intervals, never negative';
COMMENT ON COLUMN ml.sales_forecasts.series IS 'Series of analytics.daily_sales (total, category:<name>, other)';
COMMENT ON COLUMN ml.sales_forecasts.measure IS 'revenue or units';
COMMENT ON COLUMN ml.sales_forecasts.forecast_date IS 'The day forecast';
COMMENT ON COLUMN ml.sales_forecasts.horizon IS 'Days after history_end (1 = the next day)';
COMMENT ON COLUMN ml.sales_forecasts.model IS 'Model chosen for the series by backtest (seasonal_naive, ets, ets_damped, sarimax, sarimax_calendar with a calendar; croston or tsb on sparse series) or the fallback (fallback_mean, zero)';
COMMENT ON COLUMN ml.sales_forecasts.forecast IS 'Point forecast (0, with its bounds, on a day a landed calendar marks closed)';
COMMENT ON COLUMN ml.sales_forecasts.lower_80 IS 'Lower bound of the 80% prediction interval (>= 0)';
COMMENT ON COLUMN ml.sales_forecasts.upper_80 IS 'Upper bound of the 80% prediction interval';
COMMENT ON COLUMN ml.sales_forecasts.lower_95 IS 'Lower bound of the 95% prediction interval (>= 0)';
COMMENT ON COLUMN ml.sales_forecasts.upper_95 IS 'Upper bound of the 95% prediction interval';
COMMENT ON COLUMN ml.sales_forecasts.history_end IS 'Last (complete) day of history used';
COMMENT ON COLUMN ml.sales_forecasts.intervals IS 'model (the model''s own intervals) or calibrated (rescaled by split-conformal scaling on the backtest, where that lowered the interval score out of sample)';
COMMENT ON COLUMN ml.sales_forecasts.reconciled IS 'A category series scaled (with its intervals) so that the categories sum to the total''s forecast each day';
