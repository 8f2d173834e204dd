SELECT path, sha256, min_event_date, max_event_date FROM ops.ingested_files;
