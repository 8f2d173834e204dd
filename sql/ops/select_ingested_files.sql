SELECT path, sha256, min_event_date, max_event_date, accept_from FROM ops.ingested_files;
