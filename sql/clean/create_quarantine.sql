-- clean.quarantine: every raw row that did not make it into clean.events, with the reason.
CREATE SCHEMA IF NOT EXISTS clean;
CREATE TABLE IF NOT EXISTS clean.quarantine (
    event_date      DATE NOT NULL,
    reason          VARCHAR NOT NULL,
    source_file     VARCHAR,
    source_row      BIGINT,
    event_id        VARCHAR,
    event_time_raw  VARCHAR,
    event_type_raw  VARCHAR,
    user_id         VARCHAR,
    session_id      VARCHAR,
    product_id      VARCHAR,
    product_name    VARCHAR,
    category        VARCHAR,
    brand           VARCHAR,
    price           VARCHAR,
    quantity        VARCHAR,
    order_id        VARCHAR,
    utm_source      VARCHAR,
    utm_medium      VARCHAR,
    utm_campaign    VARCHAR,
    referrer        VARCHAR,
    device          VARCHAR,
    country         VARCHAR,
    coupon          VARCHAR,
    discount        VARCHAR
);
COMMENT ON TABLE clean.quarantine IS 'Raw rows kept out of clean.events, with their original values and a reason code';
COMMENT ON COLUMN clean.quarantine.event_date IS 'Partition day of the raw row';
COMMENT ON COLUMN clean.quarantine.reason IS 'unreadable_file, missing_column, bad_encoding, too_late, bad_timestamp, out_of_range_date, unknown_event_type, missing_user, missing_product, bad_price, bad_quantity, bad_discount, duplicate';
COMMENT ON COLUMN clean.quarantine.source_file IS 'Landed file the row came from';
COMMENT ON COLUMN clean.quarantine.source_row IS 'Row number within the file';
COMMENT ON COLUMN clean.quarantine.event_id IS 'Event id (source or content hash)';
COMMENT ON COLUMN clean.quarantine.event_time_raw IS 'Timestamp text as in the file';
COMMENT ON COLUMN clean.quarantine.event_type_raw IS 'Event type as in the file';
COMMENT ON COLUMN clean.quarantine.user_id IS 'User id text';
COMMENT ON COLUMN clean.quarantine.session_id IS 'Source session id text';
COMMENT ON COLUMN clean.quarantine.product_id IS 'Product id text';
COMMENT ON COLUMN clean.quarantine.product_name IS 'Product name text';
COMMENT ON COLUMN clean.quarantine.category IS 'Category text';
COMMENT ON COLUMN clean.quarantine.brand IS 'Brand text';
COMMENT ON COLUMN clean.quarantine.price IS 'Price text';
COMMENT ON COLUMN clean.quarantine.quantity IS 'Quantity text';
COMMENT ON COLUMN clean.quarantine.order_id IS 'Order id text';
COMMENT ON COLUMN clean.quarantine.utm_source IS 'Campaign source text';
COMMENT ON COLUMN clean.quarantine.utm_medium IS 'Campaign medium text';
COMMENT ON COLUMN clean.quarantine.utm_campaign IS 'Campaign name text';
COMMENT ON COLUMN clean.quarantine.referrer IS 'Referrer text';
COMMENT ON COLUMN clean.quarantine.device IS 'Device text';
COMMENT ON COLUMN clean.quarantine.country IS 'Country text';
COMMENT ON COLUMN clean.quarantine.coupon IS 'Coupon text';
COMMENT ON COLUMN clean.quarantine.discount IS 'Discount text';
