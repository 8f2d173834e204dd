"""The warehouse resource: the one way into DuckDB, plus the landing-directory settings."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
# Tables created on first write, at the latest schema; each file holds one table's DDL and column
# comments. A change to an existing table is also a migration in sql/migrations/ (below).
DDL = [
    "ops/create_schema_version",
    "raw/create_events", "ops/create_ingested_files", "ops/create_ingested_file_days", "ops/create_erasures", "clean/create_events",
    "clean/create_quarantine", "analytics/create_sessions", "analytics/create_daily_funnel",
    "analytics/create_product_conversion", "analytics/create_customer_value",
    "analytics/create_cohort_retention", "analytics/create_daily_sales",
    "ml/create_sales_forecasts", "ml/create_forecast_backtest",
    "analytics/create_suspicious_activity", "analytics/create_user_features",
    "analytics/create_user_segments", "analytics/create_segment_summary",
    "analytics/create_purchase_propensity", "analytics/create_campaign_audiences",
    "ml/create_interactions", "ml/create_item_factors", "ml/create_user_factors",
    "ml/create_user_recommendations", "ml/create_similar_items",
    "ml/create_rec_evaluation",
    # Analyst views, over the tables above.
    "views/funnel_28d_by_category", "views/top_abandoned_products", "views/cohort_matrix_monthly",
]
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def duckdb_config() -> dict[str, str]:
    """DuckDB settings from the environment: CONV_DUCKDB_MEMORY_LIMIT (e.g. `2GB`; DuckDB's own
    default is 80% of RAM) caps its buffer pool, beyond which it spills to disk."""
    limit = os.environ.get("CONV_DUCKDB_MEMORY_LIMIT")
    return {"memory_limit": limit} if limit else {}


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened (not a DuckDB file, or locked for too long)."""


@cache
def load_sql(name: str) -> list[str]:
    """Statements of `sql/<name>.sql`, split on `;` at the end of a line."""
    text = (SQL_DIR / f"{name}.sql").read_text()
    # Whole-line comments go, so a `$name` mentioned in a comment is not taken for a parameter.
    code = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("--"))
    parts = re.split(r";\s*(?:\n|$)", code)
    return [p.strip() for p in parts if p.strip()]


def _params(stmt: str, params: dict[str, object], name: str) -> dict[str, object]:
    wanted = set(_PARAM.findall(stmt))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"sql/{name}.sql needs parameters {sorted(missing)}")
    return {p: params[p] for p in wanted}


def run_sql(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> duckdb.DuckDBPyConnection:
    """Run every statement of `sql/<name>.sql` with the named parameters it uses."""
    for stmt in load_sql(name):
        con.execute(stmt, _params(stmt, params, name))
    return con


def sql_frame(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> pl.DataFrame:
    """Run `sql/<name>.sql`; its last statement's result as a polars frame, through Arrow."""
    *head, last = load_sql(name)
    for stmt in head:
        con.execute(stmt, _params(stmt, params, name))
    return query_frame(con, last, _params(last, params, name))


def query_frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> pl.DataFrame:
    return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())


def replace_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Run `sql/<name>.sql` with `frame` registered as `incoming` (Arrow, no row loop)."""
    con.register("incoming", frame.to_arrow())
    try:
        run_sql(con, name)
    finally:
        con.unregister("incoming")


def event_day_range(con: duckdb.DuckDBPyConnection) -> tuple:
    """First and last day with clean events. Whole-history assets work as of the last one,
    exclusive: it may still be filling up, so the latest complete day is the one before."""
    first, last = sql_frame(con, "analytics/select_day_range").row(0)
    if last is None:
        raise dg.Failure("clean.events is empty: nothing to build from yet")
    return first, last


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file. Open a connection only to read or write, then close it."""

    path: str
    lock_timeout_seconds: float = 120.0

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = open_warehouse(self.path, read_only, self.lock_timeout_seconds)
        try:
            yield con
        finally:
            con.close()


def open_warehouse(path: str, read_only: bool = False, timeout: float = 120.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting while another process holds its lock."""
    if not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(path, read_only=read_only, config=duckdb_config())
            con.execute("SET TimeZone = 'UTC'")
            if not read_only:
                migrate(con)
            return con
        except duckdb.IOException as exc:
            msg = str(exc)
            if "lock" in msg.lower() and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if "lock" in msg.lower():
                raise WarehouseError(f"warehouse {path} stayed locked by another process: {msg}") from None
            raise WarehouseError(f"cannot open warehouse {path}: {msg.splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise WarehouseError(
                f"cannot open warehouse {path}: {str(exc).splitlines()[0]}"
            ) from None


def migrations() -> list[tuple[int, str]]:
    """(version, name) of every file in sql/migrations/, named NNN_<what>.sql, in order."""
    found = []
    for p in sorted((SQL_DIR / "migrations").glob("*.sql")):
        number, _, _ = p.stem.partition("_")
        found.append((int(number), p.stem))
    return found


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The warehouse's schema version: None for an empty file, 1 for the first release's tables
    (which had no version table), else the last migration recorded."""
    tables = {f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()}
    if "ops.schema_version" in tables:
        recorded = con.execute("SELECT max(version) FROM ops.schema_version").fetchall()[0][0]
        if recorded is not None:
            return recorded
    return 1 if "raw.events" in tables else None


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the warehouse to the latest schema in one transaction: apply the migrations newer
    than its version, then create what is missing (a new warehouse is created at the latest).
    Migrations guard their statements (`ALTER TABLE IF EXISTS ... ADD COLUMN IF NOT EXISTS`)."""
    con.execute("BEGIN TRANSACTION")
    try:
        before = schema_version(con)
        latest = max((v for v, _ in migrations()), default=1)
        # Migrations first, so the DDL's comments find the columns they describe.
        for version, name in migrations():
            if before is not None and version > before:
                run_sql(con, f"migrations/{name}")
        for name in DDL:
            run_sql(con, name)
        if before is None:
            run_sql(con, "ops/insert_schema_version", version=latest, migration="created")
        else:
            for version, name in migrations():
                if version > before:
                    run_sql(con, "ops/insert_schema_version", version=version, migration=name)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def pause_point(where: str) -> None:
    """Test hook, inside a write transaction: with CONV_TEST_PAUSE_FILE set and that file present,
    write `<file>.reached` and wait while the file exists (a test kills the process here)."""
    flag = os.environ.get("CONV_TEST_PAUSE_FILE")
    if not flag or not Path(flag).exists():
        return
    Path(f"{flag}.reached").write_text(where)
    while Path(flag).exists():
        time.sleep(0.1)


class Landing(dg.ConfigurableResource):
    """Where landed files are read from and how (source adapter or mapping file)."""

    directory: str
    source: str = "canonical"
    mapping: str | None = None
    source_timezone: str | None = None
