"""The Dagster definitions: every asset, check and resource of conv-assets."""

from __future__ import annotations

import dagster as dg

from conv_assets.analytics.assets import ASSETS as ANALYTICS
from conv_assets.clean.assets import clean_events
from conv_assets.forecast.assets import ASSETS as FORECAST
from conv_assets.ingest.assets import raw_events
from conv_assets.jobs import EXECUTOR, daily_analytics_job, funnel_job, ingest_job, models_job
from conv_assets.ops.assets import analyst_copy, lake_maintenance
from conv_assets.recs.assets import ASSETS as RECS
from conv_assets.resources import Landing, Warehouse
from conv_assets.schedules import daily_schedule, lake_maintenance_schedule, models_schedule
from conv_assets.sensors import automation_sensor, daily_chain_sensor, landing_sensor
from conv_assets.settings import load_settings
from conv_assets.users.assets import ASSETS as USERS


def build_resources() -> dict[str, dg.ConfigurableResource]:
    s = load_settings()
    return {
        "warehouse": Warehouse.from_settings(s),
        "landing": Landing(
            directory=s.landing_dir, source=s.source, mapping=s.mapping,
            source_timezone=s.source_timezone,
        ),
    }


LAKE = bool(load_settings().lake)
# File mode: analysts read a published copy. Lake mode: they attach the lake read-only, and the
# lake is compacted on a schedule instead.
ASSETS = [raw_events, clean_events, *ANALYTICS, *FORECAST, *USERS, *RECS,
          lake_maintenance if LAKE else analyst_copy]

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[ingest_job, daily_analytics_job, funnel_job, models_job],
    schedules=[daily_schedule, models_schedule, *([lake_maintenance_schedule] if LAKE else [])],
    sensors=[landing_sensor, daily_chain_sensor, automation_sensor],
    resources=build_resources(),
    # File mode: a run's steps share the one DuckDB writer anyway, so they run in one process
    # (a process per step would cost seconds of start-up each). Lake mode: independent steps
    # (forecasts, ALS, segments) run at once in their own processes.
    executor=EXECUTOR,
)
