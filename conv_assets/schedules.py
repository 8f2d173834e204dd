"""Schedules: yesterday's partition every night, and the whole-history models."""

import os
from datetime import timedelta

import dagster as dg

from conv_assets.jobs import ingest_job, models_job


def daily_cron() -> str:
    hour = int(os.environ.get("CONV_DAILY_HOUR", "1"))
    if not 0 <= hour <= 23:
        raise ValueError(f"CONV_DAILY_HOUR must be 0..23, got {hour}")
    return f"0 {hour} * * *"


@dg.schedule(
    name="daily_schedule",
    cron_schedule=daily_cron(),
    job=ingest_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuilds yesterday's (UTC) raw and clean events at CONV_DAILY_HOUR, once the day is "
    "complete (and today's, whose sessions carry over from yesterday); daily_chain_sensor then "
    "rebuilds their sessions, funnel and sales.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    # Yesterday, now complete, and today, whose derived sessions carry over from yesterday.
    day = context.scheduled_execution_time.date() - timedelta(days=1)
    return dg.RunRequest(run_key=f"daily-{day}", tags={
        "dagster/asset_partition_range_start": day.isoformat(),
        "dagster/asset_partition_range_end": (day + timedelta(days=1)).isoformat(),
    })


models_schedule = dg.ScheduleDefinition(
    name="models_schedule",
    cron_schedule=os.environ.get("CONV_MODELS_CRON", "0 3 * * *"),
    job=models_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Recomputes the whole-history tables and models (CONV_MODELS_CRON, default daily 03:00 UTC).",
)


lake_maintenance_schedule = dg.ScheduleDefinition(
    name="lake_maintenance_schedule",
    cron_schedule=os.environ.get("CONV_LAKE_MAINTENANCE_CRON", "0 5 * * 0"),
    target=dg.AssetSelection.assets(["ops", "lake_maintenance"]),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Lake mode: compacts the lake and expires old snapshots (CONV_LAKE_MAINTENANCE_CRON, "
    "default Sundays 05:00 UTC).",
)
