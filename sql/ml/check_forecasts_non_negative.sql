-- Forecast rows that break what a forecast must be: a bound or the point forecast negative,
-- missing or not finite, or the bounds out of order (lower_95 <= lower_80 <= forecast <=
-- upper_80 <= upper_95).
SELECT * FROM ml.sales_forecasts
WHERE forecast IS NULL OR lower_80 IS NULL OR upper_80 IS NULL OR lower_95 IS NULL OR upper_95 IS NULL
   OR NOT (isfinite(forecast) AND isfinite(lower_80) AND isfinite(upper_80)
           AND isfinite(lower_95) AND isfinite(upper_95))
   OR least(forecast, lower_80, lower_95, upper_80, upper_95) < 0
   OR NOT (lower_95 <= lower_80 AND lower_80 <= forecast AND forecast <= upper_80
           AND upper_80 <= upper_95);
