-- Every table of the warehouse (not of another attached catalog) with a user_id column.
SELECT DISTINCT c.schema_name, c.table_name
FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
WHERE c.column_name = 'user_id' AND t.database_name = current_database()
ORDER BY 1, 2;
