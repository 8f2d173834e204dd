-- The staged rows of this run into raw.events, inside the write transaction (after the delete).
INSERT INTO raw.events BY NAME SELECT * FROM events_staging;
