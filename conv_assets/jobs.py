"""Jobs the schedules and sensors launch.

With the DuckDB file, each runs its steps in one process (`in_process_executor`): the steps share
one DuckDB writer anyway (pool `warehouse`), and a process per step would cost seconds of
start-up each. On a lake (CONV_LAKE), the models job runs independent steps at once, one process
each (`multiprocess_executor`, as many as cores)."""

import os

import dagster as dg

EXECUTOR = dg.multiprocess_executor if os.environ.get("CONV_LAKE") else dg.in_process_executor

RAW = dg.AssetKey(["raw", "events"])
CLEAN = [dg.AssetKey(["clean", "events"]), dg.AssetKey(["clean", "quarantine"])]
DAILY_ANALYTICS = [
    dg.AssetKey(["analytics", "sessions"]),
    dg.AssetKey(["analytics", "daily_funnel"]),
    dg.AssetKey(["analytics", "daily_sales"]),
]
GLOBAL_MODELS = [
    dg.AssetKey(["analytics", "product_conversion"]),
    dg.AssetKey(["analytics", "customer_value"]),
    dg.AssetKey(["analytics", "cohort_retention"]),
    dg.AssetKey(["analytics", "user_lifecycle"]),
    dg.AssetKey(["analytics", "channel_attribution"]),
    dg.AssetKey(["ml", "sales_forecasts"]),
    dg.AssetKey(["ml", "forecast_backtest"]),
    dg.AssetKey(["analytics", "suspicious_activity"]),
    dg.AssetKey(["analytics", "user_features"]),
    dg.AssetKey(["analytics", "user_segments"]),
    dg.AssetKey(["analytics", "segment_summary"]),
    dg.AssetKey(["analytics", "purchase_propensity"]),
    dg.AssetKey(["analytics", "campaign_audiences"]),
    dg.AssetKey(["ml", "interactions"]),
    dg.AssetKey(["ml", "item_factors"]),
    dg.AssetKey(["ml", "user_factors"]),
    dg.AssetKey(["ml", "user_recommendations"]),
    dg.AssetKey(["ml", "new_user_recommendations"]),
    dg.AssetKey(["ml", "similar_items"]),
    dg.AssetKey(["ml", "rec_evaluation"]),
]

# Landed files (landing sensor) and yesterday (daily schedule) -> raw and clean events.
ingest_job = dg.define_asset_job(
    "ingest_job", selection=dg.AssetSelection.assets(RAW, *CLEAN), executor_def=dg.in_process_executor
)
# Launched by daily_chain_sensor after any run that rebuilt clean events, for those days +-1.
daily_analytics_job = dg.define_asset_job(
    "daily_analytics_job", selection=dg.AssetSelection.assets(*DAILY_ANALYTICS),
    executor_def=dg.in_process_executor,
)
# Launched by daily_chain_sensor beside it: user funnels of the entry days whose conversion window
# the rebuilt days fall in.
FUNNELS = [dg.AssetKey(["analytics", "user_funnel"]), dg.AssetKey(["analytics", "funnel_time_to_convert"])]
funnel_job = dg.define_asset_job(
    "funnel_job", selection=dg.AssetSelection.assets(*FUNNELS), executor_def=dg.in_process_executor
)
# Whole-history tables and models, retrained on their own schedule.
models_job = dg.define_asset_job(
    "models_job", selection=dg.AssetSelection.assets(*GLOBAL_MODELS), executor_def=EXECUTOR
)
