SELECT user_id, product_id, weight, user_index, item_index FROM ml.interactions;
