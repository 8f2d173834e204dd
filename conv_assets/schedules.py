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
    "complete; daily_chain_sensor then rebuilds its sessions, funnel and sales.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = (context.scheduled_execution_time.date() - timedelta(days=1)).isoformat()
    return dg.RunRequest(run_key=f"daily-{day}", partition_key=day)


models_schedule = dg.ScheduleDefinition(
    name="models_schedule",
    cron_schedule=os.environ.get("CONV_MODELS_CRON", "0 3 * * *"),
    job=models_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Recomputes the whole-history tables and models (CONV_MODELS_CRON, default daily 03:00 UTC).",
)
