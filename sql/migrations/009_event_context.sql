-- Version 9: optional marketing and device context on events (utm_source, utm_medium,
-- utm_campaign, referrer, device, country, coupon, discount); NULL on the rows loaded before.
-- Rebuilding a day from raw.events keeps them NULL for files loaded before this version (their
-- raw rows never had them): land such files again to fill them.
ALTER TABLE IF EXISTS raw.events ADD COLUMN IF NOT EXISTS utm_source VARCHAR;
ALTER TABLE IF EXISTS raw.events ADD COLUMN IF NOT EXISTS utm_medium VARCHAR;
ALTER TABLE IF EXISTS raw.events ADD COLUMN IF NOT EXISTS utm_campaign VARCHAR;
ALTER TABLE IF EXISTS raw.events ADD COLUMN IF NOT EXISTS referrer VARCHAR;
ALTER TABLE IF EXISTS raw.events ADD COLUMN IF NOT EXISTS device VARCHAR;
ALTER TABLE IF EXISTS raw.events ADD COLUMN IF NOT EXISTS country VARCHAR;
ALTER TABLE IF EXISTS raw.events ADD COLUMN IF NOT EXISTS coupon VARCHAR;
ALTER TABLE IF EXISTS raw.events ADD COLUMN IF NOT EXISTS discount VARCHAR;
ALTER TABLE IF EXISTS clean.events ADD COLUMN IF NOT EXISTS utm_source VARCHAR;
ALTER TABLE IF EXISTS clean.events ADD COLUMN IF NOT EXISTS utm_medium VARCHAR;
ALTER TABLE IF EXISTS clean.events ADD COLUMN IF NOT EXISTS utm_campaign VARCHAR;
ALTER TABLE IF EXISTS clean.events ADD COLUMN IF NOT EXISTS referrer VARCHAR;
ALTER TABLE IF EXISTS clean.events ADD COLUMN IF NOT EXISTS device VARCHAR;
ALTER TABLE IF EXISTS clean.events ADD COLUMN IF NOT EXISTS country VARCHAR;
ALTER TABLE IF EXISTS clean.events ADD COLUMN IF NOT EXISTS coupon VARCHAR;
ALTER TABLE IF EXISTS clean.events ADD COLUMN IF NOT EXISTS discount DECIMAL(18, 4);
ALTER TABLE IF EXISTS clean.quarantine ADD COLUMN IF NOT EXISTS utm_source VARCHAR;
ALTER TABLE IF EXISTS clean.quarantine ADD COLUMN IF NOT EXISTS utm_medium VARCHAR;
ALTER TABLE IF EXISTS clean.quarantine ADD COLUMN IF NOT EXISTS utm_campaign VARCHAR;
ALTER TABLE IF EXISTS clean.quarantine ADD COLUMN IF NOT EXISTS referrer VARCHAR;
ALTER TABLE IF EXISTS clean.quarantine ADD COLUMN IF NOT EXISTS device VARCHAR;
ALTER TABLE IF EXISTS clean.quarantine ADD COLUMN IF NOT EXISTS country VARCHAR;
ALTER TABLE IF EXISTS clean.quarantine ADD COLUMN IF NOT EXISTS coupon VARCHAR;
ALTER TABLE IF EXISTS clean.quarantine ADD COLUMN IF NOT EXISTS discount VARCHAR;
