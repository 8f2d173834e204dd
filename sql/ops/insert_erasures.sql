-- Record erased users' hashes, each once.
INSERT INTO ops.erasures (user_hash, requested_at)
SELECT DISTINCT h, now()::TIMESTAMP
FROM unnest(CAST($user_hashes AS VARCHAR[])) AS t(h)
WHERE h NOT IN (SELECT user_hash FROM ops.erasures);
