INSERT OR IGNORE INTO ops.erasures SELECT unnest(CAST($user_ids AS VARCHAR[])), now()::TIMESTAMP;
