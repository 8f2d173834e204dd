"""Run the whole pipeline in-process for every day found in the landing directory.

Used by `conv-assets run`, the tests and the benchmarks. All days go through one run
(single-run backfill over the partition range), so a year of files costs one run's overhead.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from conv_assets.ops.assets import analyst_copy_path
from conv_assets.partitions import first_and_last_day
from conv_assets.resources import WarehouseError, open_warehouse, run_sql
from conv_assets.settings import Settings
from conv_assets.sources import (
    MappingError,
    file_days,
    list_landed_files,
    resolve_mapping,
    sha256_file,
    unreadable_paths,
)
from conv_assets.sources.mapping import check_columns


class PipelineError(RuntimeError):
    """The run could not start or did not finish; the message is one line for the terminal."""


@dataclass(frozen=True)
class RunOutcome:
    first_day: date
    last_day: date
    files: int
    table_rows: dict[str, int]
    quarantine: dict[str, int]
    warehouse: str
    analyst_copy: str
    metadata: dict = field(default_factory=dict, repr=False)  # asset path -> its metadata values

    def __str__(self) -> str:
        lines = [
            f"days {self.first_day} .. {self.last_day} from {self.files} landed files",
            "rows per table:",
            *[f"  {t:<32} {n:>12,}" for t, n in self.table_rows.items()],
            "quarantined rows by reason:",
            *([f"  {r:<32} {n:>12,}" for r, n in self.quarantine.items()] or ["  none"]),
            f"warehouse: {self.warehouse}",
            (f"analyst copy (open this one for queries): {self.analyst_copy}" if self.analyst_copy
             else "analysts: ATTACH the lake READ_ONLY (see the README's Scaling out)"),
        ]
        return "\n".join(lines)


def _open(settings: Settings, read_only: bool = False):
    """The warehouse the settings name: the DuckDB file, or the lake when CONV_LAKE is set."""
    return open_warehouse(settings.warehouse, read_only, lake=settings.lake,
                          lake_data_path=settings.lake_data_path)


def landed_days(settings: Settings) -> tuple[date, date, int]:
    """First and last partition day the landing directory's files touch (new or known)."""
    root = Path(settings.landing_dir)
    if not root.is_dir():
        raise PipelineError(f"landing directory {settings.landing_dir} does not exist")
    unreadable = unreadable_paths(root)
    if unreadable:
        raise PipelineError(f"cannot read {unreadable[0]} in the landing directory: permission denied")
    files = list_landed_files(root)
    if not files:
        raise PipelineError(
            f"no data files (.csv, .tsv, .txt, .parquet, .jsonl, .ndjson, optionally .gz or .zst) "
            f"in landing directory {settings.landing_dir}"
        )
    try:
        mapping = resolve_mapping(settings.source, settings.mapping, settings.source_timezone)
        if settings.mapping:
            check_columns(mapping, files[0])
    except MappingError as exc:
        raise PipelineError(str(exc)) from None
    except OSError as exc:
        raise PipelineError(f"cannot read {files[0]}: {exc.strerror or exc}") from None
    try:
        con = _open(settings)
    except WarehouseError as exc:
        raise PipelineError(str(exc)) from None
    try:
        known = {r[0]: r[1:] for r in run_sql(con, "ops/select_ingested_files").fetchall()}
    finally:
        con.close()
    first_day, last_day = first_and_last_day()
    days: list[date] = []
    for p in files:
        rel = p.relative_to(root).as_posix()
        prev = known.get(rel)
        try:
            if prev is not None and prev[1] is not None:
                days += [prev[1], prev[2]]  # also rebuild the days an older version covered
                if prev[0] == sha256_file(p):
                    continue
            lo, hi, _ = file_days(mapping, p, rel, first_day, last_day)
        except OSError as exc:
            raise PipelineError(f"cannot read landed file {p}: {exc.strerror or exc}") from None
        if lo is None:
            print(f"conv-assets: note: {rel} has no data rows; it is recorded as empty",
                  file=sys.stderr)
            continue
        days += [lo, hi]
    if not days:
        raise PipelineError(f"no data rows in any of the {len(files)} landed files in {root}")
    return min(days), max(days), len(files)


def run_pipeline(
    settings: Settings, select: str | None = None, instance: dg.DagsterInstance | None = None
) -> RunOutcome:
    """Materialize the selected assets (default all) for every landed day, in one run."""
    first, last, n_files = landed_days(settings)
    return _materialize(settings, select, instance, first, last, n_files)


def rebuild_from_clean(settings: Settings) -> RunOutcome:
    """Rebuild clean events and everything downstream for the days in raw.events, without
    reading the landing directory (used after an erasure)."""
    con = _open(settings, read_only=True)
    try:
        first, last = run_sql(con, "raw/select_day_range").fetchall()[0]
    finally:
        con.close()
    if first is None:
        raise PipelineError("the warehouse holds no events")
    return _materialize(settings, "key:clean/events+", None, first, last, 0)


def _materialize(settings: Settings, select: str | None, instance: dg.DagsterInstance | None,
                 first: date, last: date, n_files: int) -> RunOutcome:
    from conv_assets.definitions import ASSETS, build_resources

    # The analyst copy is always republished after a run (file mode); lake maintenance runs on
    # its own schedule, not after every run (lake mode).
    always = dg.AssetSelection.assets(["ops", "analyst_copy"]) if not settings.lake else None
    selection = (dg.AssetSelection.all() - dg.AssetSelection.assets(["ops", "lake_maintenance"])
                 if settings.lake else None)
    if select:
        try:
            # Multi-assets (clean events + quarantine, ALS outputs) run whole.
            selection = dg.AssetSelection.from_string(select)
            graph = dg.Definitions(assets=ASSETS, resources=build_resources()).resolve_asset_graph()
            matched = selection.resolve(graph)
            if always is not None:
                selection = selection | always
            selection = selection.required_multi_asset_neighbors()
        except Exception as exc:
            raise PipelineError(f"bad --select {select!r}: {str(exc).splitlines()[0]}") from None
        if not matched:
            raise PipelineError(f"bad --select {select!r}: it matches no asset")
    if instance is None and os.environ.get("DAGSTER_HOME"):
        try:
            instance = dg.DagsterInstance.get()
        except Exception as exc:
            raise PipelineError(f"DAGSTER_HOME {os.environ['DAGSTER_HOME']}: "
                                f"{' '.join(str(exc).split())[:300]}") from None
    result = dg.materialize(
        ASSETS,
        resources=build_resources(),
        selection=selection,
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=False,
    )
    if not result.success:
        raise PipelineError(_first_failure(result))
    metadata = {}
    for ev in result.get_asset_materialization_events():
        mat = ev.step_materialization_data.materialization
        metadata["/".join(mat.asset_key.path)] = {k: v.value for k, v in mat.metadata.items()}
    return _outcome(settings, first, last, n_files, metadata)


def _first_failure(result: dg.ExecuteInProcessResult) -> str:
    for ev in result.all_events:
        if ev.is_step_failure and ev.step_failure_data.error is not None:
            err = ev.step_failure_data.error
            while err.cause is not None:
                err = err.cause
            return f"step {ev.step_key} failed: {' '.join(err.message.split())}"
    return "the run failed (see the log above)"


def _outcome(settings: Settings, first: date, last: date, n_files: int,
             metadata: dict | None = None) -> RunOutcome:
    con = _open(settings, read_only=True)
    try:
        tables = [
            f"{s}.{t}" for s, t in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE database_name = current_database() ORDER BY 1, 2"
            ).fetchall()
        ]
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}
        reasons = dict(
            con.execute(
                "SELECT reason, count(*) FROM clean.quarantine GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
    finally:
        con.close()
    if settings.lake:
        return RunOutcome(first, last, n_files, counts, reasons, "lake", "", metadata or {})
    return RunOutcome(first, last, n_files, counts, reasons, os.path.abspath(settings.warehouse),
                      str(analyst_copy_path(settings.warehouse).resolve()), metadata or {})
