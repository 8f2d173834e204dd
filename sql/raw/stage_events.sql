-- Stage the rows of one block of a landed file (registered as `incoming`) that fall in
-- [$start, $end) into the Parquet file $path, outside the write transaction (see
-- raw/insert_events). Staged on disk, so memory stays bounded however large the window.
-- Sources without event ids get an md5 of the row content, so an exact duplicate row (a page
-- reload, a repeated order line, the same file landed twice) gets the same id and is caught by
-- deduplication in clean.events.
COPY (
    SELECT
        event_date, source_file, source_row,
        coalesce(event_id, md5(concat_ws(chr(31),
            coalesce(event_type, event_type_raw, '\N'), coalesce(user_id, '\N'),
            coalesce(session_id, '\N'), coalesce(product_id, '\N'), coalesce(order_id, '\N'),
            coalesce(event_time_raw, '\N'), coalesce(price, '\N'), coalesce(quantity, '\N')))) AS event_id,
        event_time_raw, event_time, event_type_raw, event_type, user_id, session_id, product_id,
        product_name, category, brand, price, quantity, order_id, utm_source, utm_medium,
        utm_campaign, referrer, device, country, coupon, discount, row_error
    FROM incoming
    WHERE event_date >= $start AND event_date < $end
) TO $path (FORMAT parquet);
