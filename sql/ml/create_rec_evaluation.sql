CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.rec_evaluation (
    model VARCHAR, metric VARCHAR, k INTEGER, value DOUBLE, train_start DATE, split_date DATE,
    test_end DATE, users INTEGER, "window" VARCHAR, served BOOLEAN, params VARCHAR,
    eligible_users INTEGER, gain_low DOUBLE, gain_high DOUBLE, task VARCHAR DEFAULT 'discovery');
COMMENT ON TABLE ml.rec_evaluation IS 'Nested temporal evaluation of the recommenders: choices on the validation window, honest figures on the later test window; train before split_date, test on purchases in [split_date, test_end) (of new products for the discovery task, of any product for the repeat task); full ranking';
COMMENT ON COLUMN ml.rec_evaluation.model IS 'als, item_knn (BM25, K=20, popularity fills), popularity (distinct buyers in the 28 days before the split), category_popularity (popularity within the user''s categories) co_visitation (products in the same sessions or orders as the user''s), buy_again (the user''s past purchases by repurchase rhythm and frequency; repeat task only) or blend (weighted reciprocal-rank fusion; its validation rows are out of fold: each half of the users scored with the weights fitted on the other half)';
COMMENT ON COLUMN ml.rec_evaluation.metric IS 'precision, recall, ndcg, map, catalog_coverage';
COMMENT ON COLUMN ml.rec_evaluation.k IS 'Cut-off';
COMMENT ON COLUMN ml.rec_evaluation.value IS 'Mean over evaluated users (coverage: share of the catalogue recommended)';
COMMENT ON COLUMN ml.rec_evaluation.train_start IS 'First training day';
COMMENT ON COLUMN ml.rec_evaluation.split_date IS 'First day of the window evaluated';
COMMENT ON COLUMN ml.rec_evaluation.test_end IS 'Day after the window evaluated';
COMMENT ON COLUMN ml.rec_evaluation.users IS 'Users evaluated (a seeded sample of at most CONV_RECS_EVAL_USERS of eligible_users)';
COMMENT ON COLUMN ml.rec_evaluation.window IS 'validation (chooses parameters, blend weights and the served model) or test (reports only); a reserved word: quote it as "window"';
COMMENT ON COLUMN ml.rec_evaluation.served IS 'True on the rows of the model ml.user_recommendations serves';
COMMENT ON COLUMN ml.rec_evaluation.params IS 'The model''s parameters as chosen on validation (JSON)';
COMMENT ON COLUMN ml.rec_evaluation.eligible_users IS 'Users with training history who bought a product new to them in the window';
COMMENT ON COLUMN ml.rec_evaluation.gain_low IS 'Lower bound of the model''s ndcg@10 gain over popularity in this window: CONV_RECS_CONFIDENCE (0.90) paired bootstrap over the evaluated users, CONV_RECS_BOOTSTRAP (2,000) seeded resamples; on validation a model other than popularity is served only when this is above 0';
COMMENT ON COLUMN ml.rec_evaluation.gain_high IS 'Upper bound of the same interval';
COMMENT ON COLUMN ml.rec_evaluation.task IS 'discovery (relevant: products the user bought in the window and never before; purchased items excluded from the lists) or repeat (relevant: every product bought in the window, repeats included; nothing excluded; adds the buy_again candidate); each task has its own blend weights and served model';
