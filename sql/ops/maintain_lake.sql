-- Lake upkeep (ops.lake_maintenance, and `conv-assets forget` with $keep_seconds = 0 and
-- $delete_threshold = 0): move small inlined inserts out of the catalog into Parquet, merge small
-- files, rewrite data files in which at least $delete_threshold of the rows are deleted, expire
-- snapshots older than $keep_seconds (time travel reaches back to there; the latest snapshot
-- always stays), delete the files only expired snapshots referenced, and files no transaction
-- ever committed that are older than a day (so a write in progress keeps its files).
CALL ducklake_flush_inlined_data('lake');
CALL ducklake_merge_adjacent_files('lake');
CALL ducklake_rewrite_data_files('lake', delete_threshold => $delete_threshold);
CALL ducklake_expire_snapshots('lake', older_than => now() - to_seconds(CAST($keep_seconds AS BIGINT)));
CALL ducklake_cleanup_old_files('lake', cleanup_all => true);
CALL ducklake_delete_orphaned_files('lake', older_than => now() - INTERVAL 1 DAY);
