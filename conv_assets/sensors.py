"""The landing-directory sensor, the daily-chain sensor and the automation sensor."""

from __future__ import annotations

import json
import os
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from conv_assets.funnels import max_window_days
from conv_assets.jobs import CLEAN, daily_analytics_job, funnel_job, ingest_job
from conv_assets.partitions import daily_partitions, first_and_last_day
from conv_assets.resources import Landing
from conv_assets.sources import (
    MappingError,
    file_days,
    list_landed_files,
    resolve_mapping,
    sha256_file,
    unreadable_paths,
)

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def _seconds(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    try:
        return max(1, int(raw))
    except ValueError:
        raise ValueError(f"{name} must be a whole number of seconds, got {raw!r}") from None


# How often the sensors look (the daemon's own loop adds a few seconds); tests set them low.
LANDING_INTERVAL = _seconds("CONV_LANDING_SENSOR_SECONDS", 30)
CHAIN_INTERVAL = _seconds("CONV_CHAIN_SENSOR_SECONDS", 30)
AUTOMATION_INTERVAL = _seconds("CONV_AUTOMATION_SENSOR_SECONDS", 30)


def scan_landing(
    landing: Landing, cursor: str | None, budget_seconds: float | None = None
) -> tuple[list[dg.RunRequest], str, list[str]]:
    """New run requests, the next cursor and notes for one look at the landing directory.

    The cursor remembers, per path, the size and mtime last seen and the content hash loaded.
    A file is requested once its size and mtime are unchanged between two looks (so a file
    still being written waits); the run key is path + content hash, so each version of a file
    loads exactly once however often the sensor ticks or restarts. A changed file requests the
    days it touches now and the days its earlier version touched, so they are replaced.

    A file's days are found by streaming it (bounded memory). A look stops examining new files
    after `budget_seconds` (env CONV_SENSOR_TICK_BUDGET_SECONDS, default 40) and goes on at the
    next tick, so a multi-GB export never times the tick out. A file that cannot be read is a
    logged skip, retried at the next tick; an empty file needs no run and is recorded as
    `empty` by the next ingest run.
    """
    if budget_seconds is None:
        budget_seconds = float(os.environ.get("CONV_SENSOR_TICK_BUDGET_SECONDS") or 40)
    t0 = time.monotonic()
    state = json.loads(cursor) if cursor else {}
    files: dict[str, dict] = state.get("files", {})
    pending: dict[str, list] = state.get("pending", {})
    root = Path(landing.directory)
    present = list_landed_files(root)
    alive = {p.relative_to(root).as_posix() for p in present}
    by_sha = {v["sha"]: k for k, v in files.items() if k in alive and v.get("days")}
    mapping = None
    requests: list[dg.RunRequest] = []
    notes: list[str] = []
    next_pending: dict[str, list] = {}
    for bad in unreadable_paths(root) if root.is_dir() else []:
        notes.append(f"{bad}: skipped, permission denied")
    for path in present:
        rel = path.relative_to(root).as_posix()
        try:
            st = path.stat()
        except OSError as exc:
            notes.append(f"{rel}: skipped, cannot read it: {exc.strerror}")
            continue
        sig = [st.st_size, st.st_mtime_ns]
        prev = files.get(rel)
        if prev is not None and prev["sig"] == sig:
            continue
        if pending.get(rel) != sig:
            next_pending[rel] = sig
            notes.append(f"{rel}: waiting until its size and mtime stop changing")
            continue
        if time.monotonic() - t0 > budget_seconds:
            next_pending[rel] = sig
            notes.append(f"{rel}: examined at the next tick (this tick's time is used up)")
            continue
        try:
            sha = sha256_file(path)
            if prev is not None and prev["sha"] == sha:
                files[rel] = {**prev, "sig": sig}
                continue
            if by_sha.get(sha, rel) != rel:
                files[rel] = {"sig": sig, "sha": sha, "duplicate_of": by_sha[sha]}
                notes.append(f"{rel}: same content as {by_sha[sha]}, not loaded again")
                continue
            if mapping is None:
                mapping = resolve_mapping(landing.source, landing.mapping, landing.source_timezone)
            first_day, last_day = first_and_last_day()
            lo, hi, rows = file_days(mapping, path, rel, first_day, last_day)
        except MappingError as exc:
            # The mapping itself is broken: nothing can be read until it is fixed.
            notes.append(f"no file examined: {exc}")
            next_pending.update({k: v for k, v in pending.items() if k not in next_pending})
            break
        except OSError as exc:
            notes.append(f"{rel}: skipped, cannot read it: {exc.strerror or exc}")
            next_pending[rel] = sig
            continue
        days = [d.isoformat() for d in (lo, hi) if d is not None]
        old_days = (prev or {}).get("days") or []
        if not days and not old_days:
            files[rel] = {"sig": sig, "sha": sha, "days": []}
            notes.append(f"{rel}: empty (no data rows), nothing to load")
            continue
        span = days + old_days
        start, end = ingest_range(min(span), max(span))
        requests.append(dg.RunRequest(
            run_key=f"{rel}:{sha}",
            tags={RANGE_START: start, RANGE_END: end, "conv/landed_file": rel},
        ))
        notes.append(f"{rel}: {rows:,} rows for {min(span)}..{max(span)}; rebuilding {start}..{end}")
        files[rel] = {"sig": sig, "sha": sha, "days": days}
        by_sha[sha] = rel
    return requests, json.dumps({"files": files, "pending": next_pending}, sort_keys=True), notes


@dg.sensor(
    name="landing_sensor",
    job=ingest_job,
    minimum_interval_seconds=LANDING_INTERVAL,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Loads new and changed files in the landing directory, for the days they touch.",
)
def landing_sensor(context: dg.SensorEvaluationContext, landing: Landing) -> dg.SensorResult:
    requests, cursor, notes = scan_landing(landing, context.cursor)
    for note in notes:
        context.log.info(note)
    if not requests:
        return dg.SensorResult(
            skip_reason=dg.SkipReason("; ".join(notes) or "no new or changed files"), cursor=cursor
        )
    return dg.SensorResult(run_requests=requests, cursor=cursor)


def _last_partition() -> date:
    return date.fromisoformat(daily_partitions.get_last_partition_key())


def ingest_range(first: str, last: str) -> tuple[str, str]:
    """Days to rebuild raw and clean events for a file covering [first, last]: those days and
    the day after, whose derived sessions carry over from the last day (within the partitions)."""
    end = min(date.fromisoformat(last) + timedelta(days=1), _last_partition())
    return first, max(end, date.fromisoformat(last)).isoformat()


def chain_range(first: date, last: date) -> tuple[str, str]:
    """Days whose sessions, funnel and sales depend on clean events of [first, last]: one day
    more on each side (sessions cross midnight), within the existing partitions."""
    lo = max(first - timedelta(days=1), date.fromisoformat(daily_partitions.get_first_partition_key()))
    hi = min(last + timedelta(days=1), _last_partition())
    return lo.isoformat(), hi.isoformat()


def funnel_range(first: date, last: date) -> tuple[str, str]:
    """Entry days whose user funnels read clean events of [first, last]: those days and the
    funnels' longest window before them, within the existing partitions."""
    lo = max(first - timedelta(days=max_window_days()),
             date.fromisoformat(daily_partitions.get_first_partition_key()))
    return lo.isoformat(), min(last, _last_partition()).isoformat()


@dg.run_status_sensor(
    name="daily_chain_sensor",
    run_status=dg.DagsterRunStatus.SUCCESS,
    request_jobs=[daily_analytics_job, funnel_job],
    minimum_interval_seconds=CHAIN_INTERVAL,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After any successful run that rebuilt clean events (landing sensor, schedule, "
    "backfill), rebuilds sessions, daily funnel and daily sales for those days and one day on "
    "each side, in one run, and the user funnels of the entry days whose window they fall in "
    "(funnel_job).",
)
def daily_chain_sensor(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    # What the run actually materialized, whatever launched it (sensor, schedule, backfill, UI).
    records = context.instance.get_records_for_run(
        run_id=run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=100_000
    ).records
    rebuilt = sorted(
        {r.event_log_entry.dagster_event.partition for r in records
         if r.event_log_entry.dagster_event.asset_key == CLEAN[0]
         and r.event_log_entry.dagster_event.partition}
    )
    if not rebuilt:
        return dg.SkipReason(f"run {run.run_id} did not rebuild clean events")
    days = date.fromisoformat(rebuilt[0]), date.fromisoformat(rebuilt[-1])
    start, end = chain_range(*days)
    f_start, f_end = funnel_range(*days)
    context.log.info(f"run {run.run_id} rebuilt clean events {days[0]}..{days[1]}: "
                     f"daily analytics for {start}..{end}, user funnels for {f_start}..{f_end}")
    return [
        dg.RunRequest(
            run_key=f"chain:{run.run_id}", job_name=daily_analytics_job.name,
            tags={RANGE_START: start, RANGE_END: end, "conv/after_run": run.run_id},
        ),
        dg.RunRequest(
            run_key=f"funnels:{run.run_id}", job_name=funnel_job.name,
            tags={RANGE_START: f_start, RANGE_END: f_end, "conv/after_run": run.run_id},
        ),
    ]


automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_INTERVAL,
    description="Evaluates the assets' automation conditions (the analyst copy is republished "
    "after any change).",
)
