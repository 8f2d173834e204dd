INSERT OR IGNORE INTO ops.erasures SELECT unnest(CAST($user_hashes AS VARCHAR[])), now()::TIMESTAMP;
