"""The Dagster definitions: every asset, check and resource of conv-assets."""

from __future__ import annotations

import dagster as dg

from conv_assets.analytics.assets import ASSETS as ANALYTICS
from conv_assets.clean.assets import clean_events
from conv_assets.forecast.assets import ASSETS as FORECAST
from conv_assets.ingest.assets import raw_events
from conv_assets.jobs import daily_analytics_job, ingest_job, models_job
from conv_assets.ops.assets import analyst_copy
from conv_assets.recs.assets import ASSETS as RECS
from conv_assets.resources import Landing, Warehouse
from conv_assets.schedules import daily_schedule, models_schedule
from conv_assets.sensors import automation_sensor, daily_chain_sensor, landing_sensor
from conv_assets.settings import load_settings
from conv_assets.users.assets import ASSETS as USERS


def build_resources() -> dict[str, dg.ConfigurableResource]:
    s = load_settings()
    return {
        "warehouse": Warehouse(path=s.warehouse),
        "landing": Landing(
            directory=s.landing_dir, source=s.source, mapping=s.mapping,
            source_timezone=s.source_timezone,
        ),
    }


ASSETS = [raw_events, clean_events, *ANALYTICS, *FORECAST, *USERS, *RECS, analyst_copy]

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[ingest_job, daily_analytics_job, models_job],
    schedules=[daily_schedule, models_schedule],
    sensors=[landing_sensor, daily_chain_sensor, automation_sensor],
    resources=build_resources(),
    # Runs launched for single assets (the analyst copy, the UI) also run in one process.
    executor=dg.in_process_executor,
)
