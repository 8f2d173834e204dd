DELETE FROM analytics.user_features;
INSERT INTO analytics.user_features BY NAME SELECT * FROM incoming;
