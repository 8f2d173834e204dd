-- Lake upkeep (ops.lake_maintenance and `conv-assets forget`): move small inlined inserts out of
-- the catalog into Parquet, merge small files, rewrite files that carry deletes, expire snapshots
-- older than $expire_before (time travel reaches back to there), then delete the files no
-- snapshot references any more, and files no transaction ever committed (older than
-- $orphans_before, so a write in progress keeps its files).
CALL ducklake_flush_inlined_data('lake');
CALL ducklake_merge_adjacent_files('lake');
CALL ducklake_rewrite_data_files('lake');
CALL ducklake_expire_snapshots('lake', older_than => $expire_before);
CALL ducklake_cleanup_old_files('lake', older_than => $expire_before);
CALL ducklake_delete_orphaned_files('lake', older_than => $orphans_before);
