SELECT product_id, factors FROM ml.item_factors;
