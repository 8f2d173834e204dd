-- Replace the new customers' lists from the frame registered as incoming.
DELETE FROM ml.new_user_recommendations;
INSERT INTO ml.new_user_recommendations BY NAME SELECT * FROM incoming;
