-- analytics.customer_value: per customer, purchase history to date.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.customer_value (
    user_id                 VARCHAR,
    first_purchase          TIMESTAMP,
    last_purchase           TIMESTAMP,
    orders                  BIGINT,
    units                   BIGINT,
    revenue                 DECIMAL(38, 4),
    average_order_value     DECIMAL(38, 4),
    days_between_orders     DOUBLE,
    returned_value          DECIMAL(38, 4),
    historic_value          DECIMAL(38, 4)
);
COMMENT ON TABLE analytics.customer_value IS 'Per customer (users with at least one purchase): orders, revenue and value to date';
COMMENT ON COLUMN analytics.customer_value.user_id IS 'Customer';
COMMENT ON COLUMN analytics.customer_value.first_purchase IS 'Time of the first purchase (UTC)';
COMMENT ON COLUMN analytics.customer_value.last_purchase IS 'Time of the latest purchase (UTC)';
COMMENT ON COLUMN analytics.customer_value.orders IS 'Distinct orders (order_id, else session)';
COMMENT ON COLUMN analytics.customer_value.units IS 'Units purchased';
COMMENT ON COLUMN analytics.customer_value.revenue IS 'Gross revenue: sum of price x quantity of purchases';
COMMENT ON COLUMN analytics.customer_value.average_order_value IS 'revenue / orders';
COMMENT ON COLUMN analytics.customer_value.days_between_orders IS 'Average days between consecutive orders: (last - first order start) / (orders - 1); NULL with one order';
COMMENT ON COLUMN analytics.customer_value.returned_value IS 'Sum of price x quantity of returns';
COMMENT ON COLUMN analytics.customer_value.historic_value IS 'revenue - returned_value';
