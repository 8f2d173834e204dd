"""clean.events and clean.quarantine: one pass over raw.events splits every row into one of them."""


from collections.abc import Iterator

import dagster as dg

from conv_assets.anomaly import Band, check_result, judge
from conv_assets.metadata import markdown_table, table_metadata, window_preview
from conv_assets.partitions import DAILY_FRESHNESS, daily_partitions, day_batches, window
from conv_assets.resources import WRITE_POOL, Warehouse, run_sql, sql_frame, transaction
from conv_assets.settings import load_settings

EVENTS = dg.AssetKey(["clean", "events"])
QUARANTINE = dg.AssetKey(["clean", "quarantine"])
_COMMON = {
    "group_name": "clean",
    "kinds": {"duckdb"},
    "owners": ["team:data-engineering"],
    "deps": [dg.AssetKey(["raw", "events"])],
    "freshness_policy": DAILY_FRESHNESS,
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            EVENTS,
            description=(
                "Canonical events: typed, timestamps in UTC, exact duplicates and repeated order "
                "lines removed, sessions derived with an inactivity gap where the source has none."
            ),
            **_COMMON,
        ),
        dg.AssetSpec(
            QUARANTINE,
            description=(
                "Every raw row kept out of clean.events, with its original values, source file "
                "and a reason code. raw rows = clean rows + quarantined rows for every day."
            ),
            **_COMMON,
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "rows_accounted_for", asset=EVENTS, blocking=True,
            description="For every day, the rows counted when the landed files were read "
            "(ops.ingested_file_days) = clean rows + quarantined rows.",
        ),
        dg.AssetCheckSpec(
            "unique_event_ids", asset=EVENTS, blocking=True,
            description="No event id of the rebuilt days appears twice in the whole of clean.events.",
        ),
        dg.AssetCheckSpec(
            "no_rejected_files", asset=QUARANTINE, blocking=True,
            description=(
                "No landed file was rejected whole (unreadable, or a required column missing): "
                "its rows are quarantined, the other files load, and downstream assets wait "
                "until the file is fixed."
            ),
        ),
        dg.AssetCheckSpec(
            "quarantine_share_below_threshold", asset=QUARANTINE, blocking=True,
            description=(
                "Share of raw rows quarantined for a defect (duplicates not counted) is at most "
                "CONV_MAX_QUARANTINE_SHARE (default 0.5)."
            ),
        ),
        dg.AssetCheckSpec(
            "daily_volume_normal", asset=EVENTS, partitions_def=daily_partitions,
            description=(
                "Warns when a day's clean events are outside 0.5x..2x the median of the same "
                "weekday over the 8 weeks before (CONV_ANOMALY_LOW/HIGH/WEEKS), or its share of "
                "rows from files that arrived after the next day was over is 25 points above "
                "the weekday's usual (CONV_ANOMALY_LATE_MARGIN). Closed days (no events) and "
                "the latest day (still filling up) are not judged. See conv_assets/anomaly.py."
            ),
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WRITE_POOL,
    can_subset=False,
)
def clean_events(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Split raw.events into clean.events and clean.quarantine for the run's days."""
    start, end = window(context)
    settings = load_settings()
    with warehouse.connect() as con:
        # Batches of whole days of at most CONV_BATCH_ROWS raw rows, in date order: memory is
        # bounded by a batch, not the window, and a batch's sessions continue from the day before
        # it as committed, exactly as they would inside one large batch.
        n_raw = n_clean = n_quar = 0
        for lo, hi in day_batches(start, end, run_sql(con, "clean/select_day_rows", start=start,
                                                      end=end).fetchall(),
                                  settings.batch_rows):
            # Staged before the write transaction: on a lake, runs for other days stage in parallel.
            run_sql(con, "clean/stage_events", start=lo, end=hi,
                    gap_minutes=settings.session_gap_minutes)
            with transaction(con, "clean.events", "clean.quarantine"):
                run_sql(con, "clean/delete_events", start=lo, end=hi)
                run_sql(con, "clean/delete_quarantine", start=lo, end=hi)
                run_sql(con, "clean/insert_events", start=lo, end=hi)
                run_sql(con, "clean/insert_quarantine", start=lo, end=hi)
            b_raw, b_clean = run_sql(con, "clean/count_staged").fetchall()[0]
            run_sql(con, "clean/drop_staged")
            n_raw, n_clean, n_quar = n_raw + b_raw, n_clean + b_clean, n_quar + b_raw - b_clean
            if (lo, hi) != (start, end):
                context.log.info(f"{lo}..{hi}: {b_raw} raw rows -> {b_clean} clean, "
                                 f"{b_raw - b_clean} quarantined")
        n_sessions = run_sql(con, "clean/count_sessions", start=start, end=end).fetchall()[0][0]
        reasons = sql_frame(con, "clean/summarise_quarantine", start=start, end=end)
        mismatched = sql_frame(con, "clean/check_row_identity", start=start, end=end)
        dup_ids = run_sql(con, "clean/check_duplicate_ids", start=start, end=end).fetchall()[0][0]
        rejected_files = sql_frame(con, "clean/select_rejected_files", start=start, end=end)
        band = Band.from_env()
        volume = judge(sql_frame(con, "clean/check_daily_volume", start=start, end=end,
                                 weeks=band.weeks), "events", ["events"], band)
        events_meta = table_metadata(
            con, "clean.events", n_clean, window_preview(con, "clean.events", start, end)
        )
        quarantine_meta = table_metadata(
            con, "clean.quarantine", n_quar, window_preview(con, "clean.quarantine", start, end)
        )
    context.log.info(f"{start}..{end}: {n_raw} raw rows -> {n_clean} clean, {n_quar} quarantined")
    by_reason = {r: int(n) for r, n in reasons.iter_rows()}
    identity = {"raw_rows": n_raw, "clean_rows": n_clean, "quarantined_rows": n_quar}
    volume_check, volume_numbers = check_result("daily_volume_normal", volume, ["events"], band,
                                                EVENTS)
    yield dg.MaterializeResult(
        asset_key=EVENTS,
        metadata=events_meta | identity | {"sessions": n_sessions} | volume_numbers,
    )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE,
        metadata=quarantine_meta | identity | {
            "by_reason": dg.MetadataValue.json(by_reason),
        },
    )
    yield dg.AssetCheckResult(
        check_name="rows_accounted_for", asset_key=EVENTS, passed=mismatched.is_empty(),
        metadata=identity | {"days_not_adding_up": dg.MetadataValue.md(markdown_table(mismatched))},
    )
    yield dg.AssetCheckResult(
        check_name="unique_event_ids", asset_key=EVENTS, passed=dup_ids == 0,
        metadata={"duplicated_ids": int(dup_ids)},
    )
    rejected = {r: n for r, n in by_reason.items() if r in ("missing_column", "unreadable_file")}
    yield dg.AssetCheckResult(
        check_name="no_rejected_files", asset_key=QUARANTINE, passed=not rejected,
        metadata={"rejected_rows": dg.MetadataValue.json(rejected),
                  "files": dg.MetadataValue.md(markdown_table(rejected_files))},
    )
    yield volume_check
    # Duplicates (reloads, resent files) and event types the mapping ignores (GA4's page_view)
    # are expected, not defects of the data.
    defects = n_quar - by_reason.get("duplicate", 0) - by_reason.get("ignored_event_type", 0)
    share = defects / n_raw if n_raw else 0.0
    yield dg.AssetCheckResult(
        check_name="quarantine_share_below_threshold", asset_key=QUARANTINE,
        passed=share <= settings.max_quarantine_share,
        metadata={"share": float(share), "threshold": settings.max_quarantine_share,
                  "by_reason": dg.MetadataValue.json(by_reason)},
    )
