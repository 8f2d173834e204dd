-- No marketing_spend file landed: empty spend tables (see analytics/stage_marketing_spend).
CREATE OR REPLACE TEMP TABLE marketing_spend (day DATE, channel VARCHAR, spend DECIMAL(18, 4));
CREATE OR REPLACE TEMP TABLE marketing_spend_rejected (
    source_file VARCHAR, day_raw VARCHAR, channel_raw VARCHAR, spend_raw VARCHAR);
