"""Settings read from the environment, shared by the command line and the Dagster definitions.

The command line sets these variables from its flags before it loads the definitions, so
`conv-assets run` and `dagster dev` always agree on the landing directory, source and warehouse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Settings:
    landing_dir: str
    source: str
    mapping: str | None
    warehouse: str
    lake: str
    lake_data_path: str
    start_date: str
    source_timezone: str | None
    session_gap_minutes: int
    max_quarantine_share: float
    product_window_days: int
    exclude_suspicious: bool
    batch_rows: int
    attribution_lookback_days: int


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def load_settings() -> Settings:
    start = os.environ.get("CONV_START_DATE") or "2010-01-01"
    try:
        date.fromisoformat(start)
    except ValueError:
        raise ValueError(f"CONV_START_DATE must be YYYY-MM-DD, got {start!r}") from None
    return Settings(
        landing_dir=os.environ.get("CONV_LANDING_DIR") or "data/landing",
        source=os.environ.get("CONV_SOURCE") or "canonical",
        mapping=os.environ.get("CONV_MAPPING") or None,
        warehouse=os.environ.get("CONV_WAREHOUSE") or "data/warehouse.duckdb",
        # A DuckLake attach string (`ducklake:postgres:dbname=... host=...`); unset = the file.
        lake=os.environ.get("CONV_LAKE") or "",
        lake_data_path=os.environ.get("CONV_LAKE_DATA_PATH") or "",
        start_date=start,
        source_timezone=os.environ.get("CONV_SOURCE_TIMEZONE") or None,
        session_gap_minutes=int(_float("CONV_SESSION_GAP_MINUTES", 30)),
        max_quarantine_share=_float("CONV_MAX_QUARANTINE_SHARE", 0.5),
        product_window_days=int(_float("CONV_PRODUCT_WINDOW_DAYS", 28)),
        exclude_suspicious=(os.environ.get("CONV_EXCLUDE_SUSPICIOUS") or "0").lower()
        in ("1", "true", "yes"),
        # Events per batch of days that clean, sessions and the funnel process at once.
        batch_rows=max(1, int(_float("CONV_BATCH_ROWS", 1_000_000))),
        # Sessions up to this many days before an order share its credit (channel_attribution).
        attribution_lookback_days=max(0, int(_float("CONV_ATTRIBUTION_LOOKBACK_DAYS", 30))),
    )
