SELECT * FROM ml.sales_forecasts WHERE least(forecast, lower_80, lower_95) < 0;
