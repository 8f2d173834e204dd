-- Files no longer in the landing directory have no rows in the rebuilt days [$start, $end).
DELETE FROM ops.ingested_file_days
WHERE event_date >= $start AND event_date < $end
  AND path NOT IN (SELECT unnest(CAST($present AS VARCHAR[])));
