"""The warehouse resource: the one way into DuckDB, plus the landing-directory settings."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from conv_assets.settings import Settings

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
    "ml/create_user_recommendations", "ml/create_new_user_recommendations", "ml/create_similar_items",
    "ml/create_rec_evaluation", "analytics/create_user_lifecycle",
    "analytics/create_channel_attribution", "analytics/create_user_funnel",
    "analytics/create_funnel_time_to_convert",
    # Analyst views, over the tables above.
    "views/funnel_28d_by_category", "views/top_abandoned_products", "views/cohort_matrix_monthly",
]
# Every asset that writes the DuckDB file is in this pool (limit 1 in dagster.yaml): the file
# admits one writing process. On a lake there is no such pool: runs and steps go in parallel, and
# writers of one table take turns under its lock (`transaction`).
WRITE_POOL: str | None = None if os.environ.get("CONV_LAKE") else "warehouse"
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


def replace_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame,
                  atomic: bool = True) -> None:
    """Run `sql/<schema>/replace_<table>.sql` with `frame` registered as `incoming` (Arrow, no
    row loop), in its own transaction unless `atomic=False` (the caller holds one)."""
    con.register("incoming", frame.to_arrow())
    try:
        if atomic:
            schema, _, verb_table = name.partition("/")
            with transaction(con, f"{schema}.{verb_table.removeprefix('replace_')}"):
                run_sql(con, name)
        else:
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


class Warehouse(DuckDBResource):
    """The warehouse: the DuckDB file `database` (the default), or, with `lake` set, a DuckLake
    catalog (CONV_LAKE) whose data lives under `lake_data_path` (CONV_LAKE_DATA_PATH). The same
    SQL serves both: a lake connection is an in-memory DuckDB with the lake attached as `lake`
    and made the default catalog. Open a connection only to read or write, then close it."""

    database: str = "data/warehouse.duckdb"
    lake: str = ""
    lake_data_path: str = ""
    lock_timeout_seconds: float = 120.0

    @classmethod
    def from_settings(cls, s: Settings) -> Warehouse:
        return cls(database=s.warehouse, lake=s.lake, lake_data_path=s.lake_data_path)

    @property
    def path(self) -> str:
        return self.database

    @property
    def is_lake(self) -> bool:
        return bool(self.lake)

    @contextmanager
    def get_connection(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = open_warehouse(self.database, read_only, self.lock_timeout_seconds,
                             self.lake, self.lake_data_path, self.connection_config)
        try:
            yield con
        finally:
            con.close()

    connect = get_connection


def sql_literal(text: str) -> str:
    """A setting (a path, an attach string) as an SQL string literal: ATTACH and LOAD take no
    parameters in DuckDB 1.5. Never used for data, partition keys or file contents."""
    if "\x00" in text:
        raise ValueError("a path or attach string cannot contain NUL")
    return "'" + text.replace("'", "''") + "'"


def _redact(text: str) -> str:
    return re.sub(r"(password=)\S+", r"\1***", text)


def lake_extension_path(name: str) -> Path:
    """The DuckDB extension binary shipped by the `duckdb-extension-<name>` wheel: loaded from
    the file, so a lake connection never downloads anything."""
    import importlib

    module = importlib.import_module(f"duckdb_extension_{name}")
    return (Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}"
            / f"{name}.duckdb_extension")


def s3_secret_sql() -> str:
    """A DuckDB secret for the lake's s3:// data path: AWS's credential chain (environment,
    ~/.aws, instance or pod role); AWS_ENDPOINT_URL points it at another S3-compatible store."""
    parts = ["TYPE s3", "PROVIDER credential_chain"]
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        parts += [f"ENDPOINT {sql_literal(host.rstrip('/'))}", "URL_STYLE 'path'",
                  f"USE_SSL {'true' if scheme == 'https' else 'false'}"]
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        parts.append(f"REGION {sql_literal(region)}")
    return f"CREATE OR REPLACE SECRET conv_lake_s3 ({', '.join(parts)})"


def open_lake(lake: str, data_path: str, read_only: bool, config: dict) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the DuckLake catalog attached as `lake` and in use."""
    ext_dir = Path(tempfile.gettempdir()) / "conv-assets-duckdb-extensions"
    con = duckdb.connect(config={**duckdb_config(), **config, "extension_directory": str(ext_dir),
                                 "autoinstall_known_extensions": False})
    try:
        remote = data_path.startswith("s3://")
        for ext in ("postgres_scanner", "ducklake", *(("httpfs", "aws") if remote else ())):
            con.execute(f"LOAD {sql_literal(str(lake_extension_path(ext)))}")
        if remote:
            con.execute(s3_secret_sql())
        uri = lake if lake.startswith("ducklake:") else f"ducklake:{lake}"
        options = ([f"DATA_PATH {sql_literal(data_path)}"] if data_path else []) + (
            ["READ_ONLY"] if read_only else [])
        con.execute(f"ATTACH {sql_literal(uri)} AS lake"
                    + (f" ({', '.join(options)})" if options else ""))
        con.execute("USE lake")
        con.execute("SET TimeZone = 'UTC'")
    except BaseException:
        con.close()
        raise
    return con


def open_warehouse(path: str, read_only: bool = False, timeout: float = 120.0, lake: str = "",
                   lake_data_path: str = "", config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting while another process holds its lock (file mode)."""
    if lake:
        try:
            if read_only:
                con = open_lake(lake, lake_data_path, read_only, config or {})
            else:
                # Writers attach under a lock: the first attach creates the catalog's tables, and
                # two processes creating them at once collide in PostgreSQL.
                with catalog_locks(lake.removeprefix("ducklake:"), "ops.schema_version"):
                    con = open_lake(lake, lake_data_path, read_only, config or {})
                    migrate(con)
            return con
        except duckdb.Error as exc:
            raise WarehouseError(
                f"cannot open lake {_redact(lake)}: {_redact(str(exc).splitlines()[0])}"
            ) from None
    if not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(path, read_only=read_only, config={**duckdb_config(), **(config or {})})
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


def _lake_catalog(con: duckdb.DuckDBPyConnection) -> str | None:
    """The catalog path of the connection's DuckLake (`postgres:dbname=...`), None for a file."""
    row = con.execute(
        "SELECT type, path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return row[0][1] if row and row[0][0] == "ducklake" else None


@contextmanager
def table_locks(con: duckdb.DuckDBPyConnection, *tables: str) -> Iterator[None]:
    """Hold one lock per table written, in lake mode: DuckLake detects conflicts per table (two
    runs replacing different days of one table conflict at commit), so writers of a table take
    turns while everything else (reading files, staging, models) runs in parallel. With a
    PostgreSQL catalog the locks are PostgreSQL advisory locks, shared by every machine and
    released by the server if the process dies; otherwise lock files on this machine. A DuckDB
    file needs none: it admits one writing process."""
    with catalog_locks(_lake_catalog(con), *tables):
        yield


@contextmanager
def catalog_locks(catalog: str | None, *tables: str) -> Iterator[None]:
    """The locks of `table_locks`, given the lake's catalog path (`postgres:dbname=...`)."""
    if catalog is None:
        yield
        return
    names = sorted(set(tables))  # one order everywhere, so two writers cannot deadlock
    if catalog.startswith("postgres:"):
        import psycopg2

        pg = psycopg2.connect(catalog.removeprefix("postgres:"))
        try:
            pg.autocommit = True
            with pg.cursor() as cur:
                for t in names:
                    cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"conv_assets:{t}",))
            yield
        finally:
            pg.close()  # closing the session releases its advisory locks
        return
    import fcntl
    import hashlib

    lock_dir = Path(tempfile.gettempdir()) / "conv-assets-locks"
    lock_dir.mkdir(exist_ok=True)
    handles = []
    try:
        for t in names:
            key = hashlib.sha256(f"{catalog}:{t}".encode()).hexdigest()[:32]
            fh = open(lock_dir / key, "w")
            handles.append(fh)
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        for fh in handles:
            fh.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, *tables: str) -> Iterator[None]:
    """One write transaction over `tables` (schema.table): all or nothing, and in lake mode
    under those tables' locks (see `table_locks`)."""
    with table_locks(con, *tables):
        con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


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


def missing_objects(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables and views of DDL (named `<schema>/create_<table>`, views `views/<name>`) that the
    warehouse lacks."""
    present = {f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal"
    ).fetchall()}
    wanted = []
    for name in DDL:
        schema, _, stem = name.partition("/")
        wanted.append(f"analytics.{stem}" if schema == "views" else f"{schema}.{stem.removeprefix('create_')}")
    return [w for w in wanted if w not in present]


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the warehouse to the latest schema in one transaction: apply the migrations newer
    than its version, then create what is missing (a new warehouse is created at the latest).
    Migrations guard their statements (`ALTER TABLE IF EXISTS ... ADD COLUMN IF NOT EXISTS`)."""
    con.execute("BEGIN TRANSACTION")
    try:
        before = schema_version(con)
        latest = max((v for v, _ in migrations()), default=1)
        if before == latest and not missing_objects(con):
            # Up to date: write nothing, so opening never takes a lake snapshot or conflicts.
            con.execute("COMMIT")
            return
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
