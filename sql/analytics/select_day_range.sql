-- First and last day with events; the latest complete day is the day before the last one.
SELECT min(event_date) AS first_day, max(event_date) AS last_day FROM clean.events;
