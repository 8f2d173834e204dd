-- The demo's closing summary: flagged users against the generator's ground truth (registered
-- as `truth`: user_id, kind).
WITH flagged AS (SELECT user_id FROM analytics.suspicious_activity WHERE level = 'user' AND flagged)
SELECT (SELECT count(*) FROM flagged) AS flagged,
       (SELECT count(*) FROM truth) AS bad_actors,
       (SELECT count(*) FROM flagged WHERE user_id IN (SELECT user_id FROM truth)) AS caught;
