-- analytics.product_conversion: per product and per category over a trailing window.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.product_conversion (
    level                   VARCHAR,
    product_id              VARCHAR,
    category                VARCHAR,
    window_start            DATE,
    window_end              DATE,
    views                   BIGINT,
    cart_adds               BIGINT,
    purchases               BIGINT,
    units                   BIGINT,
    viewing_sessions        BIGINT,
    purchasing_sessions     BIGINT,
    view_to_purchase_rate   DOUBLE,
    revenue                 DECIMAL(38, 4)
);
COMMENT ON TABLE analytics.product_conversion IS 'Views, cart adds, purchases and revenue per product and per category over the trailing window';
COMMENT ON COLUMN analytics.product_conversion.level IS 'product or category';
COMMENT ON COLUMN analytics.product_conversion.product_id IS 'Product (NULL on category rows)';
COMMENT ON COLUMN analytics.product_conversion.category IS 'Category of the product (most frequent), or the category of a category row';
COMMENT ON COLUMN analytics.product_conversion.window_start IS 'First day of the window';
COMMENT ON COLUMN analytics.product_conversion.window_end IS 'Last day of the window (the latest day with events)';
COMMENT ON COLUMN analytics.product_conversion.views IS 'View events';
COMMENT ON COLUMN analytics.product_conversion.cart_adds IS 'Cart events';
COMMENT ON COLUMN analytics.product_conversion.purchases IS 'Purchase events (order lines)';
COMMENT ON COLUMN analytics.product_conversion.units IS 'Units purchased';
COMMENT ON COLUMN analytics.product_conversion.viewing_sessions IS 'Sessions that viewed or bought it (a purchase implies a view)';
COMMENT ON COLUMN analytics.product_conversion.purchasing_sessions IS 'Sessions that bought it';
COMMENT ON COLUMN analytics.product_conversion.view_to_purchase_rate IS 'purchasing_sessions / viewing_sessions; NULL when the source has no views';
COMMENT ON COLUMN analytics.product_conversion.revenue IS 'Sum of price x quantity of purchases';
