-- raw.events: every row of every landed file, mapped to canonical column names but kept as text.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.events (
    event_date      DATE,
    source_file     VARCHAR,
    source_row      BIGINT,
    event_id        VARCHAR,
    event_time_raw  VARCHAR,
    event_time      TIMESTAMP,
    event_type_raw  VARCHAR,
    event_type      VARCHAR,
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
    discount        VARCHAR,
    row_error       VARCHAR
);
COMMENT ON TABLE raw.events IS 'Every row of every landed file, canonical column names, source values as text; daily partitions by event_date';
COMMENT ON COLUMN raw.events.event_date IS 'Partition day (UTC) of the parsed event_time; rows whose time is unusable get the first valid day of their file';
COMMENT ON COLUMN raw.events.source_file IS 'Landed file the row came from (path relative to the landing directory)';
COMMENT ON COLUMN raw.events.source_row IS 'Row number within the file, 1-based, header excluded';
COMMENT ON COLUMN raw.events.event_id IS 'Source event id, or an md5 of the row content when the source has none';
COMMENT ON COLUMN raw.events.event_time_raw IS 'Timestamp text as in the file';
COMMENT ON COLUMN raw.events.event_time IS 'Parsed timestamp in UTC; NULL when unparseable';
COMMENT ON COLUMN raw.events.event_type_raw IS 'Event type as in the file';
COMMENT ON COLUMN raw.events.event_type IS 'Canonical event type; NULL when the source value is not mapped';
COMMENT ON COLUMN raw.events.user_id IS 'User id as text (pseudonymised when a key is configured)';
COMMENT ON COLUMN raw.events.session_id IS 'Source session id, if the source has one';
COMMENT ON COLUMN raw.events.product_id IS 'Product id as text';
COMMENT ON COLUMN raw.events.product_name IS 'Product name or description, if the source has one';
COMMENT ON COLUMN raw.events.category IS 'Category, if the source has one';
COMMENT ON COLUMN raw.events.brand IS 'Brand, if the source has one';
COMMENT ON COLUMN raw.events.price IS 'Unit price text';
COMMENT ON COLUMN raw.events.quantity IS 'Quantity text';
COMMENT ON COLUMN raw.events.order_id IS 'Order or invoice id text';
COMMENT ON COLUMN raw.events.utm_source IS 'Campaign source (utm_source), where the source records it';
COMMENT ON COLUMN raw.events.utm_medium IS 'Campaign medium (utm_medium: cpc, email, organic...), where recorded';
COMMENT ON COLUMN raw.events.utm_campaign IS 'Campaign name (utm_campaign), where recorded';
COMMENT ON COLUMN raw.events.referrer IS 'Referring URL or host, where recorded';
COMMENT ON COLUMN raw.events.device IS 'Device category (desktop, mobile, tablet...), where recorded';
COMMENT ON COLUMN raw.events.country IS 'Country of the user or order, where recorded';
COMMENT ON COLUMN raw.events.coupon IS 'Coupon code used, where recorded';
COMMENT ON COLUMN raw.events.discount IS 'Discount amount text';
COMMENT ON COLUMN raw.events.row_error IS 'Problem the adapter found with the whole row or file (missing_column, bad_encoding, missing_price)';
