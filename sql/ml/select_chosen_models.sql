-- Each task's candidate recommenders: their parameters and whether each is served, as
-- rec_evaluation chose them on its validation window.
SELECT task, model, bool_or(served) AS served, any_value(params) AS params
FROM ml.rec_evaluation WHERE "window" = 'validation'
GROUP BY task, model ORDER BY task, model;
