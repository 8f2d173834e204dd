-- Every table with a user_id column, except the erasure list itself.
SELECT DISTINCT c.schema_name, c.table_name
FROM duckdb_columns() c JOIN duckdb_tables() t USING (schema_name, table_name)
WHERE c.column_name = 'user_id' AND NOT (c.schema_name = 'ops' AND c.table_name = 'erasures')
ORDER BY 1, 2;
