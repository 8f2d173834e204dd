-- The demo's closing summary: each task's served recommender against popularity, ndcg@10 per
-- window.
SELECT r.task, r."window", r.model, r.value, p.value AS popularity, r.users
FROM ml.rec_evaluation r
JOIN ml.rec_evaluation p ON p.task = r.task AND p."window" = r."window" AND p.metric = r.metric
                        AND p.k = r.k AND p.model = 'popularity'
WHERE r.served AND r.metric = 'ndcg' AND r.k = 10
ORDER BY r.task, r."window" DESC;
