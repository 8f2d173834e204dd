"""raw.events: landed files into the warehouse, one daily partition at a time."""


import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from conv_assets.forget import delete_users, make_physical, rows_of
from conv_assets.metadata import table_metadata, window_preview
from conv_assets.partitions import DAILY_FRESHNESS, daily_partitions, first_and_last_day, window
from conv_assets.privacy import (
    as_stored,
    drop_erased,
    erasure_hash,
    erasure_requests,
    pseudonym_key,
    pseudonymise,
)
from conv_assets.resources import WRITE_POOL, Landing, Warehouse, pause_point, run_sql, transaction
from conv_assets.sources import iter_landed, list_landed_files, resolve_mapping, sha256_file


def plan_files(
    files: list[Path], root: Path, known: dict[str, tuple[str, date | None, date | None]],
    start: date, end: date,
) -> tuple[list[tuple[Path, str, str]], list[tuple[str, str, str]]]:
    """Which files to read for [start, end), and which are copies of another file's content.

    A file is read when it is new, its content changed, or the days it covered last time overlap
    the window. Of several files with identical content, only the first path (sorted) is loaded.
    """
    to_read: list[tuple[Path, str, str]] = []
    duplicates: list[tuple[str, str, str]] = []
    first_path: dict[str, str] = {}
    for p in files:
        rel = p.relative_to(root).as_posix()
        sha = sha256_file(p)
        if sha in first_path:
            duplicates.append((rel, sha, first_path[sha]))
            continue
        first_path[sha] = rel
        prev = known.get(rel)
        if (
            prev is None
            or prev[0] != sha
            or prev[1] is None
            or (prev[1] < end and prev[2] is not None and prev[2] >= start)
        ):
            to_read.append((p, rel, sha))
    return to_read, duplicates


@dg.asset(
    key=["raw", "events"],
    group_name="ingest",
    kinds={"duckdb", "polars"},
    owners=["team:data-engineering"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WRITE_POOL,
    freshness_policy=DAILY_FRESHNESS,
)
def raw_events(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: Landing
) -> dg.MaterializeResult:
    """Every row of every landed file, renamed to the canonical columns but kept as text.

    Reads the landing directory with the configured source adapter or mapping file. Rebuilding a
    partition window replaces exactly those days in one transaction. Each file's content hash,
    row count and days are recorded in ops.ingested_files; a file whose content was already landed
    under another name is recorded as a duplicate and not loaded again. User ids are
    pseudonymised (HMAC-SHA256) when CONV_PSEUDONYM_KEY is set; erased users are never loaded;
    rows of a newly arrived file dated more than CONV_LATE_LOOKBACK_DAYS (default 30) before the
    latest loaded day are quarantined as too_late.
    """
    start, end = window(context)
    mapping = resolve_mapping(landing.source, landing.mapping, landing.source_timezone)
    root = Path(landing.directory)
    files = list_landed_files(root)
    first_day, last_day = first_and_last_day()
    key = pseudonym_key()
    lookback = int(os.environ.get("CONV_LATE_LOOKBACK_DAYS", "30"))
    # This run's rows wait in Parquet files beside the warehouse file until the write transaction,
    # in a folder of this run's own (so concurrent runs on a lake never share it).
    beside = Path(warehouse.path).resolve().parent
    beside.mkdir(parents=True, exist_ok=True)
    with warehouse.connect() as con, tempfile.TemporaryDirectory(prefix=".raw-staging-", dir=beside) as staging:
        # Ids listed in CONV_ERASURE_FILE since the last run are erased from every day and
        # table now, not only from the days this run loads; the bytes go after the write below.
        erase = as_stored(erasure_requests())
        left = rows_of(con, erase) if erase else {}
        if left:
            delete_users(con, erase)
            context.log.warning(
                f"erasure file: {sum(left.values()):,} rows of erased users deleted from "
                f"{len(left)} tables; tables without a user_id column (the daily funnel and "
                f"sales) keep counting them until their days are rebuilt (`conv-assets forget` "
                f"rebuilds at once)")
        elif erase:
            with transaction(con, "ops.erasures"):
                run_sql(con, "ops/insert_erasures", user_hashes=[erasure_hash(u) for u in erase])
        erased = {r[0] for r in run_sql(con, "ops/select_erasures").fetchall()}
        rows_known = run_sql(con, "ops/select_ingested_files").fetchall()
        known = {r[0]: (r[1], r[2], r[3]) for r in rows_known}
        accept = {r[0]: (r[1], r[4], r[5]) for r in rows_known}
        watermark = run_sql(con, "ops/select_watermark").fetchall()[0][0]
        to_read, duplicates = plan_files(files, root, known, start, end)
        context.log.info(
            f"{len(files)} landed files in {root}; reading {len(to_read)} for "
            f"{start}..{end} (end exclusive), {len(duplicates)} duplicate copies skipped"
        )
        errors: list[str] = []
        staged: list[str] = []
        done: list[dict] = []
        for i, (path, rel, sha) in enumerate(to_read, 1):
            # A file seen before keeps the limit it got on arrival; a new one (or a new version)
            # gets the latest loaded day minus the lookback.
            # A re-read of the same content keeps its arrival time (None: it arrives now).
            prev_sha, accept_from, arrived_at = accept.get(rel, (None, None, None))
            if prev_sha != sha:
                accept_from = watermark - timedelta(days=lookback) if watermark else None
                arrived_at = None
            n_rows, lo, hi, file_errors = 0, None, None, []
            day_counts: list[pl.DataFrame] = []
            # Block by block, so a file larger than memory loads with bounded memory.
            for frame, error in iter_landed(mapping, path, rel, first_day, last_day):
                # Users who asked to be forgotten never come back, whatever is reloaded.
                frame = drop_erased(pseudonymise(frame, key), erased)
                if accept_from is not None:
                    frame = frame.with_columns(pl.coalesce(
                        pl.col("row_error"),
                        pl.when(pl.col("event_date") < accept_from).then(pl.lit("too_late")),
                    ).alias("row_error"))
                if error and error not in file_errors:
                    file_errors.append(error)
                    context.log.warning(f"{rel}: {error}; its rows go to quarantine")
                # Counted here, as read, independently of the insert into raw.events below.
                day_counts.append(frame.group_by("event_date").agg(pl.len().alias("rows")))
                con.register("incoming", frame)
                staged.append(f"{staging}/{len(staged):06d}.parquet")
                run_sql(con, "raw/stage_events", start=start, end=end, path=staged[-1])
                con.unregister("incoming")
                n_rows += frame.height
                if frame.height:
                    f_lo, f_hi = frame["event_date"].min(), frame["event_date"].max()
                    lo = f_lo if lo is None else min(lo, f_lo)
                    hi = f_hi if hi is None else max(hi, f_hi)
                if n_rows and n_rows % 5_000_000 < frame.height:
                    context.log.info(f"{rel}: {n_rows:,} rows read")
            error = "; ".join(file_errors) or None
            errors += [f"{rel}: {e}" for e in file_errors]
            counts = (pl.concat(day_counts).group_by("event_date").agg(pl.col("rows").sum())
                      if day_counts else pl.DataFrame(schema={"event_date": pl.Date, "rows": pl.UInt32}))
            if n_rows == 0:
                context.log.info(f"{rel}: empty (no data rows), recorded as empty")
            done.append({"counts": counts, "record": dict(
                path=rel, sha256=sha, status="loaded" if n_rows else "empty", duplicate_of=None,
                rows=n_rows, min_event_date=lo, max_event_date=hi, error=error,
                accept_from=accept_from, bytes=path.stat().st_size, arrived_at=arrived_at)})
            if i % 50 == 0 or i == len(to_read):
                context.log.info(f"read {i}/{len(to_read)} files")
        # One transaction replaces the days and records what was read: all or nothing.
        with transaction(con, "raw.events", "ops.ingested_files", "ops.ingested_file_days"):
            run_sql(con, "raw/delete_events", start=start, end=end)
            if staged:
                run_sql(con, "raw/insert_events", paths=staged)
            for item in done:
                con.register("day_counts", item["counts"])
                run_sql(con, "ops/replace_ingested_file_days", path=item["record"]["path"],
                        sha256=item["record"]["sha256"])
                con.unregister("day_counts")
                run_sql(con, "ops/upsert_ingested_files", **item["record"])
            for rel, sha, original in duplicates:
                run_sql(
                    con, "ops/upsert_ingested_files", path=rel, sha256=sha, status="duplicate",
                    duplicate_of=original, rows=None, min_event_date=None, max_event_date=None,
                    error=None, accept_from=None, bytes=(root / rel).stat().st_size, arrived_at=None,
                )
            run_sql(con, "ops/delete_gone_file_days", start=start, end=end,
                    present=[p.relative_to(root).as_posix() for p in files])
            pause_point("raw.events")
        rows = run_sql(con, "raw/count_events", start=start, end=end).fetchall()[0][0]
        meta = table_metadata(con, "raw.events", rows, window_preview(con, "raw.events", start, end))
    if left:
        before, after = make_physical(warehouse, erase)
        context.log.info(f"erasure made physical: storage rewritten, {before:,} -> {after:,} bytes")
    meta |= {
        "erased_rows": sum(left.values()),
        "files_read": len(to_read),
        "duplicate_files": len(duplicates),
        "file_errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in errors) or "none"),
    }
    return dg.MaterializeResult(metadata=meta)
