DELETE FROM ml.rec_evaluation;
INSERT INTO ml.rec_evaluation BY NAME SELECT * FROM incoming;
