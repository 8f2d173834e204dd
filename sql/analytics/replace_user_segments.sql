DELETE FROM analytics.user_segments;
INSERT INTO analytics.user_segments BY NAME SELECT * FROM incoming;
