DELETE FROM analytics.funnel_time_to_convert WHERE entry_date >= $start AND entry_date < $end;
