INSERT OR IGNORE INTO ops.erasures (user_hash, requested_at)
SELECT unnest(CAST($user_hashes AS VARCHAR[])), now()::TIMESTAMP;
