DELETE FROM ml.interactions;
INSERT INTO ml.interactions BY NAME SELECT * FROM incoming;
