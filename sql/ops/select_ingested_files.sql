SELECT path, sha256, min_event_date, max_event_date, accept_from, arrived_at FROM ops.ingested_files;
