DELETE FROM ml.similar_items;
INSERT INTO ml.similar_items BY NAME SELECT * FROM incoming;
