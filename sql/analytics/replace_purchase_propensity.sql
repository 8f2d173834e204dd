DELETE FROM analytics.purchase_propensity;
INSERT INTO analytics.purchase_propensity BY NAME SELECT * FROM incoming;
