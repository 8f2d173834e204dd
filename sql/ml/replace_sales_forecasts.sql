-- Replace all forecasts with the frame registered as `incoming`.
DELETE FROM ml.sales_forecasts;
INSERT INTO ml.sales_forecasts BY NAME SELECT * FROM incoming;
