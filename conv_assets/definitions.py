"""The Dagster definitions: every asset, check and resource of conv-assets."""

from __future__ import annotations

import dagster as dg

from conv_assets.analytics.assets import ASSETS as ANALYTICS
from conv_assets.clean.assets import clean_events
from conv_assets.ingest.assets import raw_events
from conv_assets.resources import Landing, Warehouse
from conv_assets.settings import load_settings


def build_resources() -> dict[str, dg.ConfigurableResource]:
    s = load_settings()
    return {
        "warehouse": Warehouse(path=s.warehouse),
        "landing": Landing(
            directory=s.landing_dir, source=s.source, mapping=s.mapping,
            source_timezone=s.source_timezone, start_date=s.start_date,
        ),
    }


ASSETS = [raw_events, clean_events, *ANALYTICS]

defs = dg.Definitions(assets=ASSETS, resources=build_resources())
