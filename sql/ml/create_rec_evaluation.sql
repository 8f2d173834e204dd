CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.rec_evaluation (
    model VARCHAR, metric VARCHAR, k INTEGER, value DOUBLE, train_start DATE, split_date DATE,
    test_end DATE, users INTEGER);
COMMENT ON TABLE ml.rec_evaluation IS 'Offline evaluation on a temporal split: train before split_date, test on purchases of new products in [split_date, test_end); full ranking, purchased items excluded';
COMMENT ON COLUMN ml.rec_evaluation.model IS 'als, popularity (distinct buyers in the 28 days before the split) or item_knn (implicit BM25 nearest neighbours, K=20)';
COMMENT ON COLUMN ml.rec_evaluation.metric IS 'precision, recall, ndcg, map, catalog_coverage';
COMMENT ON COLUMN ml.rec_evaluation.k IS 'Cut-off';
COMMENT ON COLUMN ml.rec_evaluation.value IS 'Mean over evaluated users (coverage: share of the catalogue recommended)';
COMMENT ON COLUMN ml.rec_evaluation.train_start IS 'First training day';
COMMENT ON COLUMN ml.rec_evaluation.split_date IS 'First test day';
COMMENT ON COLUMN ml.rec_evaluation.test_end IS 'Day after the test period';
COMMENT ON COLUMN ml.rec_evaluation.users IS 'Users evaluated (with training history and a new purchase in the test period)';
