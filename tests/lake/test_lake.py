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
from tests.conftest import CANONICAL_HEADER, SHARED, write_csv
from tests.sources.test_real_data import checksums_of_every_table
from tests.test_daemon_e2e import CHECKSUMS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONV_", "DAGSTER_"))}
    return {**env, **extra}


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
    in_lake = checksums_of_every_table(lake)
    in_file = checksums_of_every_table(uci)
    assert in_lake == in_file
    assert in_lake["raw.events"][0] == 541_909
    # The data really is Parquet under the data path, and the catalog is PostgreSQL.
    assert list(Path(lake.data_path).rglob("*.parquet"))
    assert lake.query("SELECT type FROM duckdb_databases() WHERE database_name = 'lake'") == [("ducklake",)]


RUN_RANGE = """
import sys
import dagster as dg
from conv_assets.clean.assets import clean_events
from conv_assets.definitions import build_resources, defs
if sys.argv[1] == "clean":  # clean events of the given days, one after the other
    for day in sys.argv[2:]:
        assert dg.materialize([clean_events], resources=build_resources(), partition_key=day,
                              instance=dg.DagsterInstance.get()).success
else:
    tags = {"dagster/asset_partition_range_start": sys.argv[2],
            "dagster/asset_partition_range_end": sys.argv[3]}
    assert defs.resolve_job_def(sys.argv[1]).execute_in_process(
        tags=tags, instance=dg.DagsterInstance.get()).success
"""


def test_four_concurrent_runs_equal_one_while_an_analyst_reads(lake, tmp_path):
    first = date(2024, 3, 1)
    landing = tmp_path / "landing"
    generate(landing, days=24, users=400, events_per_day=1_500, seed=9, start=first)
    last = first + timedelta(days=23)
    # A night owl whose sessions run over every midnight where the days are split between runs.
    owl = []
    for i in (6, 12, 18):
        seam = first + timedelta(days=i)
        owl += [f"owl{i}a,{seam - timedelta(days=1)}T23:50:00Z,view,night_owl,,p1,c,,10,,",
                f"owl{i}b,{seam}T00:10:00Z,view,night_owl,,p2,c,,10,,"]
    write_csv(landing / "night_owl.csv", CANONICAL_HEADER, owl)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "local" / "dagster.yaml", home / "dagster.yaml")
    env = clean_env(**lake.env, CONV_LANDING_DIR=str(landing), DAGSTER_HOME=str(home),
                    DAGSTER_PG_URL=lake.dagster_pg_url)

    # Dagster's storage and the lake's tables exist before the runs start, as in a deployment
    # whose daemon is up (four processes creating either at once would collide in PostgreSQL).
    subprocess.run([str(BIN / "dagster"), "instance", "migrate"], env=env, check=True,
                   capture_output=True)
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
        seams = [a.isoformat() for a, _ in ranges[1:]]
        steps = [
            [[job, a.isoformat(), b.isoformat()] for a, b in ranges] if job != "clean"
            # The first day of each split carries sessions over from the day before, which
            # another run built: clean it again once every run is done, in date order.
            else [["clean", *seams]]
            for job in ("ingest_job", "clean", "daily_analytics_job")
        ]
        for step in steps:
            procs = [subprocess.Popen([sys.executable, "-c", RUN_RANGE, *args], env=env, cwd=tmp_path,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                     for args in step]
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
    # Computed by hand: each of the owl's pairs is one session (20 minutes apart over midnight).
    owl_sessions = lake.query("SELECT count(DISTINCT session_id) FROM clean.events WHERE user_id = 'night_owl'")
    assert owl_sessions == [(3,)]


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


def test_analyst_time_travel_and_maintenance(lake, tmp_path):
    """Two runs, a read-only analyst going back to the first with AT (VERSION => n) as the
    README shows, then ops/lake_maintenance materialized by Dagster (keep 0 days): the data
    stays, old snapshots and the files only they used go."""
    src, landing = tmp_path / "generated", tmp_path / "landing"
    generate(src, days=4, users=100, events_per_day=800, seed=4, start=date(2024, 5, 1))
    landing.mkdir()
    files = sorted(src.glob("*.csv"))
    env = clean_env(**lake.env, CONV_LANDING_DIR=str(landing))
    daily = " or ".join(f"key:{k}" for k in ("raw/events", "clean/events"))
    counts, versions = [], []
    for batch in (files[:2], files[2:]):
        for f in batch:
            shutil.copy(f, landing / f.name)
        done = subprocess.run([str(BIN / "conv-assets"), "run", "--select", daily], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        counts.append(sum(1 for f in batch for _ in f.open()) - len(batch))  # rows minus headers
        versions.append(lake.query("SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")[0][0])

    analyst = lake.connect(read_only=True)
    assert analyst.execute("SELECT count(*) FROM raw.events").fetchone()[0] == sum(counts)
    assert analyst.execute(
        "SELECT count(*) FROM raw.events AT (VERSION => $v)", {"v": versions[0]}).fetchone()[0] == counts[0]
    analyst.close()

    done = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "-m", "conv_assets.definitions",
         "--select", "ops/lake_maintenance"],
        env={**env, "CONV_LAKE_KEEP_DAYS": "0"}, cwd=tmp_path, capture_output=True, text=True,
        timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert lake.query("SELECT count(*) FROM raw.events") == [(sum(counts),)]
    assert lake.query("SELECT count(*) FROM ducklake_snapshots('lake')") == [(1,)]
    # Every file on disk is one the catalog references: the old snapshots' files are gone.
    referenced = {Path(p).name for (p,) in lake.query(
        "SELECT data_file FROM ducklake_list_files('lake', 'events', schema => 'raw')")}
    on_disk = {p.name for p in (Path(lake.data_path) / "raw" / "events").rglob("*.parquet")}
    assert on_disk == referenced


LAKE_DEFS = """
import json
from conv_assets.definitions import defs
graph = defs.resolve_asset_graph()
keys = {"/".join(k.path) for k in graph.get_all_asset_keys()}
pools = {p for n in graph.asset_nodes for p in (n.pools or ())}
print(json.dumps({
    "keys": sorted(keys),
    "pools": sorted(pools),
    "schedules": sorted(s.name for s in defs.schedules),
    "models_executor": defs.resolve_job_def("models_job").executor_def.name,
}))
"""


def test_lake_mode_definitions(tmp_path):
    """With CONV_LAKE set: no analyst copy but a maintenance asset on a schedule, no single-writer
    pool, the models job's steps in parallel processes; and the definitions validate."""
    env = clean_env(CONV_LAKE="ducklake:postgres:dbname=lake host=127.0.0.1 user=conv",
                    CONV_LAKE_DATA_PATH=str(tmp_path / "data") + "/")
    out = subprocess.run([sys.executable, "-c", LAKE_DEFS], env=env, cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    import json

    got = json.loads(out.strip().splitlines()[-1])
    assert "ops/lake_maintenance" in got["keys"] and "ops/analyst_copy" not in got["keys"]
    assert got["pools"] == []
    assert "lake_maintenance_schedule" in got["schedules"]
    assert got["models_executor"] == "multiprocess"
    done = subprocess.run([str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
