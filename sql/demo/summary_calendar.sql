-- The demo's closing summary: total revenue on the backtest's promotion days, SARIMAX with the
-- calendar against SARIMAX without it, and the model chosen.
SELECT c.promotion_mae AS with_calendar, s.promotion_mae AS without_calendar,
       c.mae AS with_calendar_all_days, s.mae AS without_calendar_all_days,
       (SELECT model FROM ml.forecast_backtest WHERE series = 'total' AND measure = 'revenue' AND chosen) AS chosen
FROM ml.forecast_backtest c
JOIN ml.forecast_backtest s ON s.series = c.series AND s.measure = c.measure AND s.model = 'sarimax'
WHERE c.series = 'total' AND c.measure = 'revenue' AND c.model = 'sarimax_calendar'
  AND c.promotion_mae IS NOT NULL;
