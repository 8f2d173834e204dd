-- The latest day any loaded file reached: files arriving later for days long before it are late.
SELECT max(max_event_date) FROM ops.ingested_files WHERE status = 'loaded';
