-- clean.events: the canonical event model, typed, deduplicated and sessionised.
CREATE SCHEMA IF NOT EXISTS clean;
CREATE TABLE IF NOT EXISTS clean.events (
    event_id        VARCHAR NOT NULL,
    event_time      TIMESTAMP NOT NULL,
    event_date      DATE NOT NULL,
    event_type      VARCHAR NOT NULL,
    user_id         VARCHAR NOT NULL,
    session_id      VARCHAR NOT NULL,
    product_id      VARCHAR NOT NULL,
    product_name    VARCHAR,
    category        VARCHAR,
    brand           VARCHAR,
    price           DECIMAL(18, 4),
    quantity        INTEGER NOT NULL,
    order_id        VARCHAR,
    utm_source      VARCHAR,
    utm_medium      VARCHAR,
    utm_campaign    VARCHAR,
    referrer        VARCHAR,
    device          VARCHAR,
    country         VARCHAR,
    coupon          VARCHAR,
    discount        DECIMAL(18, 4),
    source_file     VARCHAR NOT NULL,
    session_is_derived BOOLEAN NOT NULL
);
COMMENT ON TABLE clean.events IS 'Canonical events: typed, UTC, exact duplicates removed, sessions derived where the source has none';
COMMENT ON COLUMN clean.events.event_id IS 'Source event id, or an md5 of the row content; unique';
COMMENT ON COLUMN clean.events.event_time IS 'Event time in UTC';
COMMENT ON COLUMN clean.events.event_date IS 'UTC date of event_time (the partition)';
COMMENT ON COLUMN clean.events.event_type IS 'view, cart, remove_from_cart, purchase, return, or a source type mapped explicitly (favorite)';
COMMENT ON COLUMN clean.events.user_id IS 'User (customer, visitor) id';
COMMENT ON COLUMN clean.events.session_id IS 'Source session id, or md5(user_id, session start) with a 30-minute inactivity gap';
COMMENT ON COLUMN clean.events.product_id IS 'Product id (SKU, stock code, item id)';
COMMENT ON COLUMN clean.events.product_name IS 'Product name or description, when the source has one';
COMMENT ON COLUMN clean.events.category IS 'Product category, when the source has one';
COMMENT ON COLUMN clean.events.brand IS 'Brand, when the source has one';
COMMENT ON COLUMN clean.events.price IS 'Unit price; NULL only where the source has no prices';
COMMENT ON COLUMN clean.events.quantity IS 'Units, positive (returns are positive units of event_type return)';
COMMENT ON COLUMN clean.events.order_id IS 'Order or invoice id';
COMMENT ON COLUMN clean.events.utm_source IS 'Campaign source (utm_source), where the source records it';
COMMENT ON COLUMN clean.events.utm_medium IS 'Campaign medium (utm_medium: cpc, email, organic...), where recorded';
COMMENT ON COLUMN clean.events.utm_campaign IS 'Campaign name (utm_campaign), where recorded';
COMMENT ON COLUMN clean.events.referrer IS 'Referring URL or host, where recorded';
COMMENT ON COLUMN clean.events.device IS 'Device category (desktop, mobile, tablet...), where recorded';
COMMENT ON COLUMN clean.events.country IS 'Country of the user or order, where recorded';
COMMENT ON COLUMN clean.events.coupon IS 'Coupon code used, where recorded';
COMMENT ON COLUMN clean.events.discount IS 'Discount on the line or order, in the price''s currency, non-negative; where recorded';
COMMENT ON COLUMN clean.events.source_file IS 'Landed file the event came from';
COMMENT ON COLUMN clean.events.session_is_derived IS 'True when session_id was derived here, false when it came from the source';
