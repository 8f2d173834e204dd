"""The landing-directory sensor and the automation sensor."""

import json
from pathlib import Path

import dagster as dg

from conv_assets.jobs import ingest_job
from conv_assets.partitions import first_and_last_day
from conv_assets.resources import Landing
from conv_assets.sources import list_landed_files, read_landed, resolve_mapping, sha256_file

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def scan_landing(landing: Landing, cursor: str | None) -> tuple[list[dg.RunRequest], str, list[str]]:
    """New run requests, the next cursor and notes for one look at the landing directory.

    The cursor remembers, per path, the size and mtime last seen and the content hash loaded.
    A file is requested once its size and mtime are unchanged between two looks (so a file
    still being written waits); the run key is path + content hash, so each version of a file
    loads exactly once however often the sensor ticks or restarts. A changed file requests the
    days it touches now and the days its earlier version touched, so they are replaced.
    """
    state = json.loads(cursor) if cursor else {}
    files: dict[str, dict] = state.get("files", {})
    pending: dict[str, list] = state.get("pending", {})
    root = Path(landing.directory)
    present = list_landed_files(root)
    alive = {p.relative_to(root).as_posix() for p in present}
    by_sha = {v["sha"]: k for k, v in files.items() if k in alive}
    mapping = None
    requests: list[dg.RunRequest] = []
    notes: list[str] = []
    next_pending: dict[str, list] = {}
    for path in present:
        rel = path.relative_to(root).as_posix()
        st = path.stat()
        sig = [st.st_size, st.st_mtime_ns]
        prev = files.get(rel)
        if prev is not None and prev["sig"] == sig:
            continue
        if pending.get(rel) != sig:
            next_pending[rel] = sig
            notes.append(f"{rel}: waiting until its size and mtime stop changing")
            continue
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
        frame, _ = read_landed(mapping, path, rel, first_day, last_day)
        lo, hi = frame["event_date"].min(), frame["event_date"].max()
        days = [lo.isoformat(), hi.isoformat()]
        if prev is not None and prev.get("days"):
            days += prev["days"]
        start, end = min(days), max(days)
        requests.append(dg.RunRequest(
            run_key=f"{rel}:{sha}",
            tags={RANGE_START: start, RANGE_END: end, "conv/landed_file": rel},
        ))
        files[rel] = {"sig": sig, "sha": sha, "days": [lo.isoformat(), hi.isoformat()]}
        by_sha[sha] = rel
    return requests, json.dumps({"files": files, "pending": next_pending}, sort_keys=True), notes


@dg.sensor(
    name="landing_sensor",
    job=ingest_job,
    minimum_interval_seconds=30,
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


automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the assets' automation conditions (daily assets follow their upstream "
    "partitions; the analyst copy is republished after any change).",
)
