-- Rows of the staged batch, and how many of them are clean (the rest go to quarantine).
SELECT count(*) AS raw_rows, count(*) FILTER (final_reason IS NULL) AS clean_rows FROM staged;
