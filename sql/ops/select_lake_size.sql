-- Data files, delete files and their bytes in the lake, and its snapshots.
SELECT
    (SELECT CAST(coalesce(sum(file_count + delete_file_count), 0) AS BIGINT) FROM ducklake_table_info('lake')) AS files,
    (SELECT CAST(coalesce(sum(file_size_bytes + delete_file_size_bytes), 0) AS BIGINT) FROM ducklake_table_info('lake')) AS bytes,
    (SELECT count(*) FROM ducklake_snapshots('lake')) AS snapshots;
