CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.interactions (
    user_id         VARCHAR,
    product_id      VARCHAR,
    weight          FLOAT,
    touches         BIGINT,
    last_event_date DATE,
    user_index      INTEGER,
    item_index      INTEGER,
    window_start    DATE,
    window_end      DATE
);
COMMENT ON TABLE ml.interactions IS 'User x product confidence weights for ALS (the CSR matrix in long form)';
COMMENT ON COLUMN ml.interactions.user_id IS 'User';
COMMENT ON COLUMN ml.interactions.product_id IS 'Product';
COMMENT ON COLUMN ml.interactions.weight IS 'Sum over orders/sessions of the event type weight (CONV_RECS_WEIGHTS), decayed by age (CONV_RECS_HALF_LIFE_DAYS), optionally BM25-weighted';
COMMENT ON COLUMN ml.interactions.touches IS 'Distinct (event type, order or session) touches';
COMMENT ON COLUMN ml.interactions.last_event_date IS 'Latest day of a touch';
COMMENT ON COLUMN ml.interactions.user_index IS 'Row of the user in the matrix';
COMMENT ON COLUMN ml.interactions.item_index IS 'Column of the product in the matrix';
COMMENT ON COLUMN ml.interactions.window_start IS 'First day of the window';
COMMENT ON COLUMN ml.interactions.window_end IS 'Day after the window (the cutoff)';
