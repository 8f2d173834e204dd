-- events_staging: this run's rows before they replace their days in raw.events. A temporary
-- table of this connection (so concurrent runs on a lake never share it), filled block by block
-- outside the write transaction, because DuckDB holds a transaction's many small appends in
-- memory; one INSERT ... SELECT from here inside it stays within bounds.
CREATE OR REPLACE TEMP TABLE events_staging AS FROM raw.events LIMIT 0;
