INSERT INTO clean.events (
    event_id, event_time, event_date, event_type, user_id, session_id, product_id,
    product_name, category, brand, price, quantity, order_id, utm_source, utm_medium,
    utm_campaign, referrer, device, country, coupon, discount, source_file, session_is_derived
)
SELECT
    event_id, event_time, event_date, event_type, user_id, final_session, product_id,
    product_name, category, brand, price_num, CAST(quantity_num AS INTEGER), order_id,
    utm_source, utm_medium, utm_campaign, referrer, device, country, coupon, discount_num,
    source_file, session_is_derived
FROM staged
WHERE final_reason IS NULL;
