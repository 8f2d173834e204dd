-- The staged batch is written: free its memory before the next one.
DROP TABLE staged;
