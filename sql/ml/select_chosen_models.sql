-- Each candidate recommender's parameters and whether it is served for $task, as rec_evaluation
-- chose them on its validation window.
SELECT model, bool_or(served) AS served, any_value(params) AS params
FROM ml.rec_evaluation WHERE "window" = 'validation' AND task = $task
GROUP BY model ORDER BY model;
