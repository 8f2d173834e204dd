DROP TABLE IF EXISTS raw.events_staging;
