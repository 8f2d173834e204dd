SELECT user_id, product_id, weight, last_event_date, user_index, item_index FROM ml.interactions;
