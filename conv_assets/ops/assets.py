"""ops/analyst_copy: the warehouse as analysts see it, swapped in whole after each change."""

import os
import shutil
from pathlib import Path

import dagster as dg

from conv_assets.resources import Warehouse


def analyst_copy_path(warehouse_path: str) -> Path:
    """Where the analyst copy lives: CONV_ANALYST_COPY, else analyst.duckdb beside the warehouse."""
    explicit = os.environ.get("CONV_ANALYST_COPY")
    return Path(explicit) if explicit else Path(warehouse_path).with_name("analyst.duckdb")


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
    pool="warehouse",
    deps=[
        ["clean", "events"], ["clean", "quarantine"], ["analytics", "sessions"],
        ["analytics", "daily_funnel"], ["analytics", "product_conversion"],
        ["analytics", "customer_value"], ["analytics", "cohort_retention"],
        ["analytics", "daily_sales"], ["ml", "sales_forecasts"], ["ml", "forecast_backtest"],
        ["analytics", "suspicious_activity"], ["analytics", "user_features"],
        ["analytics", "user_segments"], ["analytics", "segment_summary"],
        ["analytics", "purchase_propensity"], ["analytics", "campaign_audiences"],
        ["ml", "interactions"], ["ml", "item_factors"], ["ml", "user_factors"],
        ["ml", "user_recommendations"], ["ml", "similar_items"], ["ml", "rec_evaluation"],
    ],
    automation_condition=(
        dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ),
)
def analyst_copy(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """A read-only copy of the whole warehouse (every table and the analyst views in sql/views)
    for analysts, published after every change by an atomic rename. Analysts open this file,
    never the live warehouse, so they neither block runs nor see half-written state."""
    target, size = publish(warehouse)
    context.log.info(f"published analyst copy {target} ({size:,} bytes)")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(target)), "bytes": size}
    )
