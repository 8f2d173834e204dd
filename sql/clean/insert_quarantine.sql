INSERT INTO clean.quarantine (
    event_date, reason, source_file, source_row, event_id, event_time_raw, event_type_raw,
    user_id, session_id, product_id, product_name, category, brand, price, quantity, order_id,
    utm_source, utm_medium, utm_campaign, referrer, device, country, coupon, discount
)
SELECT
    event_date, final_reason, source_file, source_row, event_id, event_time_raw, event_type_raw,
    user_id, session_id, product_id, product_name, category, brand, price, quantity, order_id,
    utm_source, utm_medium, utm_campaign, referrer, device, country, coupon, discount
FROM staged
WHERE final_reason IS NOT NULL;
