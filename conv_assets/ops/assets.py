"""ops: how analysts get at the data. File mode: ops/analyst_copy, the warehouse swapped in whole,
at most once per CONV_ANALYST_COPY_CRON tick (hourly) after a change. Lake mode: analysts attach
the lake read-only, and ops/lake_maintenance keeps it compact on a schedule."""

import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb

from conv_assets.resources import WRITE_POOL, Warehouse, run_sql, sql_frame, table_locks


def analyst_copy_path(warehouse_path: str) -> Path:
    """Where the analyst copy lives: CONV_ANALYST_COPY, else analyst.duckdb beside the warehouse."""
    explicit = os.environ.get("CONV_ANALYST_COPY")
    return Path(explicit) if explicit else Path(warehouse_path).with_name("analyst.duckdb")


def analyst_copy_cron() -> str:
    """How often the analyst copy may be republished: CONV_ANALYST_COPY_CRON, default hourly.
    Each publish copies the whole file (777 MB at 8M events), so it runs on a cadence, not
    after every run."""
    return os.environ.get("CONV_ANALYST_COPY_CRON") or "0 * * * *"


def publish(warehouse: Warehouse) -> tuple[Path, int]:
    """Copy the checkpointed warehouse next to the analyst copy, then rename it over the copy.

    The rename is atomic: a connection already open keeps reading the old file (its inode stays
    alive until closed), and a new connection sees the new file whole, never a half-written one.
    """
    target = analyst_copy_path(warehouse.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    # Holding the connection while copying keeps other writers out until the copy is complete.
    with warehouse.connect() as con:
        con.execute("CHECKPOINT")
        shutil.copyfile(warehouse.path, tmp)
    os.replace(tmp, target)
    return target, target.stat().st_size


@dg.asset(
    key=["ops", "analyst_copy"],
    group_name="ops",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    pool=WRITE_POOL,
    deps=[
        ["clean", "events"], ["clean", "quarantine"], ["analytics", "sessions"],
        ["analytics", "daily_funnel"], ["analytics", "product_conversion"],
        ["analytics", "customer_value"], ["analytics", "cohort_retention"],
        ["analytics", "user_lifecycle"], ["analytics", "channel_attribution"],
        ["analytics", "daily_sales"], ["ml", "sales_forecasts"], ["ml", "forecast_backtest"],
        ["analytics", "suspicious_activity"], ["analytics", "user_features"],
        ["analytics", "user_segments"], ["analytics", "segment_summary"],
        ["analytics", "purchase_propensity"], ["analytics", "campaign_audiences"],
        ["ml", "interactions"], ["ml", "item_factors"], ["ml", "user_factors"],
        ["ml", "user_recommendations"], ["ml", "similar_items"], ["ml", "rec_evaluation"],
    ],
    # Once per cron tick at most, and only when some table changed since the last publish.
    automation_condition=(
        dg.AutomationCondition.cron_tick_passed(analyst_copy_cron()).since_last_handled()
        & dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ),
)
def analyst_copy(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """A read-only copy of the whole warehouse (every table and the analyst views in sql/views)
    for analysts, published by an atomic rename at most once per CONV_ANALYST_COPY_CRON tick
    (default hourly) after any table changed, and at the end of `conv-assets run`. Analysts open
    this file, never the live warehouse, so they neither block runs nor see half-written state."""
    target, size = publish(warehouse)
    context.log.info(f"published analyst copy {target} ({size:,} bytes)")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(target)), "bytes": size}
    )


def lake_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """Bytes of the lake's live data and delete files."""
    return int(sql_frame(con, "ops/select_lake_size")["bytes"][0])


def maintain_lake(con: duckdb.DuckDBPyConnection, keep_days: float,
                  delete_threshold: float = 0.5) -> dict:
    """Compact the lake and drop snapshots older than `keep_days` with the files only they
    used. Every table is locked meanwhile (merging rewrites tables, which would conflict with a
    writer). An erasure passes 0 and 0: every file with a deleted row is rewritten and only the
    latest snapshot stays."""
    before = sql_frame(con, "ops/select_lake_size").row(0, named=True)
    tables = [f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()]
    with table_locks(con, *tables):
        run_sql(con, "ops/maintain_lake", keep_seconds=int(keep_days * 86400),
                delete_threshold=delete_threshold)
    after = sql_frame(con, "ops/select_lake_size").row(0, named=True)
    return {f"{k}_{when}": v for when, d in (("before", before), ("after", after)) for k, v in d.items()}


def lake_keep_days() -> float:
    raw = os.environ.get("CONV_LAKE_KEEP_DAYS") or "7"
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"CONV_LAKE_KEEP_DAYS must be a number of days, got {raw!r}") from None


@dg.asset(
    key=["ops", "lake_maintenance"],
    group_name="ops",
    kinds={"ducklake"},
    owners=["team:data-engineering"],
)
def lake_maintenance(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Lake mode only: flush inlined rows to Parquet, merge small files, rewrite files with
    deletes, expire snapshots older than CONV_LAKE_KEEP_DAYS (default 7; time travel reaches
    that far back) and delete the files nothing references any more. Run by
    lake_maintenance_schedule."""
    with warehouse.connect() as con:
        figures = maintain_lake(con, lake_keep_days())
    context.log.info(f"lake maintenance: {figures}")
    return dg.MaterializeResult(metadata=figures | {"keep_days": lake_keep_days()})
