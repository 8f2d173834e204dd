-- Replace factors and recommendations from the frames registered as factors_items,
-- factors_users and recommendations.
DELETE FROM ml.item_factors;
INSERT INTO ml.item_factors BY NAME SELECT * FROM factors_items;
DELETE FROM ml.user_factors;
INSERT INTO ml.user_factors BY NAME SELECT * FROM factors_users;
DELETE FROM ml.user_recommendations;
INSERT INTO ml.user_recommendations BY NAME SELECT * FROM recommendations;
