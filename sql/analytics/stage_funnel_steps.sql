-- The funnels' steps (registered as funnel_steps_in, from conv_assets/funnels.py) as a temp table.
CREATE OR REPLACE TEMP TABLE funnel_steps AS SELECT * FROM funnel_steps_in;
