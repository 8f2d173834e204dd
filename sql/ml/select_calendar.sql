-- The landed calendar files ($paths: CSV with a header naming date, kind and optionally
-- category) as rows (day, kind, category); kind is promotion, holiday or closed (any case).
-- A row whose date does not parse or whose kind is another word is returned with valid = false
-- (counted in ml/sales_forecasts' metadata, never used).
WITH raw AS (
    SELECT NULL::VARCHAR AS date, NULL::VARCHAR AS kind, NULL::VARCHAR AS category WHERE false
    UNION ALL BY NAME
    SELECT * FROM read_csv($paths, header = true, all_varchar = true, union_by_name = true)
)
SELECT TRY_CAST(date AS DATE) AS day, lower(trim(kind)) AS kind,
       nullif(trim(category), '') AS category,
       coalesce(TRY_CAST(date AS DATE) IS NOT NULL
                AND lower(trim(kind)) IN ('promotion', 'holiday', 'closed'), false) AS valid
FROM raw;
