DELETE FROM analytics.suspicious_activity;
INSERT INTO analytics.suspicious_activity BY NAME SELECT * FROM incoming;
