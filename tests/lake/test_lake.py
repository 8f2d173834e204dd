"""The same assets on DuckLake (catalog in PostgreSQL, data as Parquet), run the way users run
them: `conv-assets run` and Dagster runs in their own processes, with CONV_LAKE set."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import yaml

from conv_assets.generate import generate
from tests.conftest import SHARED
from tests.sources.test_real_data import checksums_of_every_table
from tests.test_daemon_e2e import CHECKSUMS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONV_", "DAGSTER_"))}
    return {**env, **extra}


class Reader:
    """An analyst's `.query` over any connection factory (for checksums_of_every_table)."""

    def __init__(self, connect) -> None:
        self.connect = connect

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        con = self.connect()
        try:
            return con.execute(sql, params or {}).fetchall()
        finally:
            con.close()


def day_checksums(con: duckdb.DuckDBPyConnection, first: date, last: date) -> dict:
    return {t: con.execute(q, {"a": first, "b": last}).fetchone() for t, q in CHECKSUMS.items()}


def test_uci_through_the_lake_equals_the_file(uci, lake, tmp_path):
    """Every table, row for row (count and hash of all columns but clocks), equal to the
    DuckDB-file warehouse built from the same 305 files."""
    done = subprocess.run(
        [str(BIN / "conv-assets"), "run", "--landing", str(SHARED / "online_retail" / "by-day"),
         "--source", "online_retail"],
        env=clean_env(**lake.env), cwd=tmp_path, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "analysts: ATTACH the lake READ_ONLY" in done.stdout
    in_lake = checksums_of_every_table(Reader(lake.connect))
    in_file = checksums_of_every_table(uci)
    assert in_lake == in_file
    assert in_lake["raw.events"][0] == 541_909
    # The data really is Parquet under the data path, and the catalog is PostgreSQL.
    assert list(Path(lake.data_path).rglob("*.parquet"))
    assert lake.query("SELECT type FROM duckdb_databases() WHERE database_name = 'lake'") == [("ducklake",)]


RUN_RANGE = """
import sys
import dagster as dg
from conv_assets.definitions import defs
job = defs.resolve_job_def(sys.argv[1])
tags = {"dagster/asset_partition_range_start": sys.argv[2],
        "dagster/asset_partition_range_end": sys.argv[3]}
assert job.execute_in_process(tags=tags, instance=dg.DagsterInstance.get()).success
"""


def test_four_concurrent_runs_equal_one_while_an_analyst_reads(lake, tmp_path):
    first = date(2024, 3, 1)
    landing = tmp_path / "landing"
    generate(landing, days=24, users=400, events_per_day=1_500, seed=9, start=first)
    last = first + timedelta(days=23)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "local" / "dagster.yaml", home / "dagster.yaml")
    env = clean_env(**lake.env, CONV_LANDING_DIR=str(landing), DAGSTER_HOME=str(home),
                    DAGSTER_PG_URL=lake.dagster_pg_url)

    # The tables exist before the analyst comes (the first writer creates them).
    lake.connect(read_only=False).close()
    # The analyst's one read-only connection, querying all along.
    counts, errors, stop = [], [], threading.Event()
    analyst = lake.connect(read_only=True)

    def read() -> None:
        while not stop.is_set():
            try:
                counts.append(analyst.execute(
                    "SELECT (SELECT count(*) FROM raw.events), (SELECT count(*) FROM clean.events), "
                    "(SELECT count(*) FROM analytics.daily_funnel)").fetchone())
            except Exception as exc:  # any failure is what the test looks for
                errors.append(repr(exc))
            time.sleep(0.2)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        ranges = [(first + timedelta(days=6 * i), first + timedelta(days=6 * i + 5)) for i in range(4)]
        for job in ("ingest_job", "daily_analytics_job"):
            procs = [subprocess.Popen([sys.executable, "-c", RUN_RANGE, job, a.isoformat(), b.isoformat()],
                                      env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True) for a, b in ranges]
            outs = [p.communicate(timeout=900)[0] for p in procs]
            assert all(p.returncode == 0 for p in procs), "\n".join(o[-3000:] for o in outs)
    finally:
        stop.set()
        reader.join()
    final = analyst.execute("SELECT (SELECT count(*) FROM raw.events), (SELECT count(*) FROM clean.events), "
                            "(SELECT count(*) FROM analytics.daily_funnel)").fetchone()
    analyst.close()
    assert errors == []
    assert len(counts) > 20
    # Each run replaces its days in one transaction: the analyst never sees a table shrink.
    for column in range(3):
        seen = [c[column] for c in counts]
        assert seen == sorted(seen), f"column {column} went down: {seen}"

    # One run over all the days, into the DuckDB file.
    ref = tmp_path / "ref.duckdb"
    daily = " or ".join(f"key:{k}" for k in ("raw/events", "clean/events", "analytics/sessions",
                                             "analytics/daily_funnel", "analytics/daily_sales"))
    done = subprocess.run([str(BIN / "conv-assets"), "run", "--select", daily],
                          env=clean_env(CONV_LANDING_DIR=str(landing), CONV_WAREHOUSE=str(ref)),
                          cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    file_con = duckdb.connect(str(ref), read_only=True)
    want = day_checksums(file_con, first, last)
    assert final[0] == file_con.execute("SELECT count(*) FROM raw.events").fetchone()[0]
    file_con.close()
    lake_con = lake.connect()
    got = day_checksums(lake_con, first, last)
    lake_con.close()
    assert got == want
    assert want["raw.events"][0] > 30_000


def _validate_instance(path: Path) -> None:
    """The file against Dagster's instance schema, and each pluggable class's config against
    that class's own config schema."""
    import importlib

    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config_schema

    raw = yaml.safe_load(path.read_text())
    result = process_config(dagster_instance_config_schema(), raw)
    assert result.success, [e.message for e in result.errors]
    for key in ("run_launcher",):
        block = raw[key]
        cls = getattr(importlib.import_module(block["module"]), block["class"])
        checked = process_config(cls.config_type(), block.get("config", {}))
        assert checked.success, (key, [e.message for e in checked.errors])


def test_deploy_instances_validate_and_share_one_topology(monkeypatch):
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql://conv@127.0.0.1:5432/dagster")
    local = ROOT / "deploy" / "local" / "dagster.yaml"
    k8s = ROOT / "deploy" / "k8s" / "dagster.yaml"
    _validate_instance(local)
    _validate_instance(k8s)
    a, b = yaml.safe_load(local.read_text()), yaml.safe_load(k8s.read_text())
    assert a["storage"] == b["storage"] and "postgres" in a["storage"]
    assert a["concurrency"] == b["concurrency"]
    assert a["run_launcher"]["class"] == "LocalRunLauncher"
    assert b["run_launcher"]["class"] == "K8sRunLauncher"
