DROP TABLE IF EXISTS events_staging;
