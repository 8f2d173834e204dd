-- Type, validate, deduplicate and sessionise the raw rows of [$start, $end) into a temp table.
-- Each row gets either a quarantine `reason` or a session. Reasons, first match wins:
--   row_error from the adapter (unreadable_file, missing_column, bad_encoding,
--   ignored_event_type, bad_price),
--   bad_timestamp, out_of_range_date, unknown_event_type, missing_user, missing_product,
--   bad_price, bad_quantity, bad_discount, and finally duplicate (same event_id as an earlier valid row).
CREATE OR REPLACE TEMP TABLE staged AS
WITH typed AS (
    SELECT
        r.*,
        TRY_CAST(r.price AS DECIMAL(18, 4)) AS price_num,
        TRY_CAST(coalesce(r.quantity, '1') AS DOUBLE) AS quantity_num,
        TRY_CAST(r.discount AS DECIMAL(18, 4)) AS discount_num
    FROM raw.events r
    WHERE r.event_date >= $start AND r.event_date < $end
),
checked AS (
    SELECT
        *,
        CASE
            WHEN row_error IS NOT NULL THEN row_error
            WHEN event_time IS NULL THEN 'bad_timestamp'
            WHEN CAST(event_time AS DATE) <> event_date THEN 'out_of_range_date'
            WHEN event_type IS NULL THEN 'unknown_event_type'
            WHEN user_id IS NULL THEN 'missing_user'
            WHEN product_id IS NULL THEN 'missing_product'
            WHEN price IS NOT NULL AND (price_num IS NULL OR price_num < 0) THEN 'bad_price'
            WHEN quantity_num IS NULL OR quantity_num <= 0 OR quantity_num <> floor(quantity_num)
                 OR quantity_num > 2147483647 THEN 'bad_quantity'
            WHEN discount IS NOT NULL AND (discount_num IS NULL OR discount_num < 0) THEN 'bad_discount'
        END AS reason
    FROM typed
),
-- Event ids held by more than one valid row, with the first such row (by file, then row):
-- every other valid row with that id is a duplicate. A hash aggregate, not a sort of all rows.
firsts AS (
    SELECT event_id, min({'f': source_file, 'r': source_row}) AS first_row
    FROM checked
    WHERE reason IS NULL AND event_id IN (
        SELECT event_id FROM checked WHERE reason IS NULL GROUP BY event_id HAVING count(*) > 1)
    GROUP BY event_id
),
ranked AS (
    SELECT
        c.*,
        CASE
            WHEN c.reason IS NULL AND f.first_row <> {'f': c.source_file, 'r': c.source_row}
            THEN 'duplicate'
            ELSE c.reason
        END AS final_reason
    FROM checked c
    LEFT JOIN firsts f ON c.event_id = f.event_id
),
-- The last event of the day before the window, per user, so a session running over midnight
-- keeps the id it was given when the earlier day was built.
context AS (
    SELECT user_id, max(event_time) AS event_time, arg_max(session_id, event_time) AS session_id
    FROM clean.events
    WHERE event_date = CAST($start AS DATE) - 1 AND session_is_derived
    GROUP BY user_id
),
to_sessionise AS (
    SELECT user_id, event_time, source_file, source_row, NULL AS context_session
    FROM ranked
    WHERE final_reason IS NULL AND session_id IS NULL
    UNION ALL
    SELECT user_id, event_time, NULL, NULL, session_id FROM context
),
gaps AS (
    SELECT
        *,
        lag(event_time) OVER w IS NULL
          OR event_time - lag(event_time) OVER w > to_minutes(CAST($gap_minutes AS BIGINT))
          AS starts_session
    FROM to_sessionise
    WINDOW w AS (PARTITION BY user_id ORDER BY event_time, source_file NULLS FIRST, source_row)
),
-- A row's session is named by the latest session start at or before it: the carried-over id when
-- that start is the day before's last event, else an md5 of the user and the start time.
derived AS (
    SELECT
        source_file, source_row,
        last_value(CASE WHEN starts_session THEN coalesce(
            context_session, md5(user_id || chr(31) || CAST(event_time AS VARCHAR))) END
            IGNORE NULLS) OVER (
            PARTITION BY user_id ORDER BY event_time, source_file NULLS FIRST, source_row
            ROWS UNBOUNDED PRECEDING) AS derived_session
    FROM gaps
)
SELECT
    k.*,
    coalesce(k.session_id, d.derived_session) AS final_session,
    k.session_id IS NULL AS session_is_derived
FROM ranked k
LEFT JOIN derived d USING (source_file, source_row);
