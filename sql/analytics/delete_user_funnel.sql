DELETE FROM analytics.user_funnel WHERE entry_date >= $start AND entry_date < $end;
