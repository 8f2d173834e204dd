-- The landed marketing_spend files ($paths: CSV with a header naming date, channel and spend) as
-- the temp table marketing_spend; a row whose date or spend does not parse, or whose spend is
-- negative, goes to marketing_spend_rejected (reported in the asset's metadata).
CREATE OR REPLACE TEMP TABLE marketing_spend_raw AS
SELECT filename AS source_file, date AS day_raw, channel AS channel_raw, spend AS spend_raw
FROM read_csv($paths, header = true, all_varchar = true, union_by_name = true, filename = true);
CREATE OR REPLACE TEMP TABLE marketing_spend AS
SELECT TRY_CAST(day_raw AS DATE) AS day, lower(trim(channel_raw)) AS channel,
       TRY_CAST(spend_raw AS DECIMAL(18, 4)) AS spend
FROM marketing_spend_raw
WHERE TRY_CAST(day_raw AS DATE) IS NOT NULL AND nullif(trim(channel_raw), '') IS NOT NULL
  AND TRY_CAST(spend_raw AS DECIMAL(18, 4)) >= 0;
CREATE OR REPLACE TEMP TABLE marketing_spend_rejected AS
SELECT * FROM marketing_spend_raw
WHERE TRY_CAST(day_raw AS DATE) IS NULL OR nullif(trim(channel_raw), '') IS NULL
   OR TRY_CAST(spend_raw AS DECIMAL(18, 4)) IS NULL OR TRY_CAST(spend_raw AS DECIMAL(18, 4)) < 0;
