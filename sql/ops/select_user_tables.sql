-- Every table with a user_id column.
SELECT DISTINCT c.schema_name, c.table_name
FROM duckdb_columns() c JOIN duckdb_tables() t USING (schema_name, table_name)
WHERE c.column_name = 'user_id'
ORDER BY 1, 2;
