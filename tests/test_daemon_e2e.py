"""The deployment as users run it: the real `dagster-daemon` (and webserver) over a landing
directory that receives files in phases, a SIGKILL of the daemon and its run, and a restart.

Every expectation is computed independently, by DuckDB straight over the landed files: events per
day, revenue and orders per day, and sessions per day (a user's run of events with gaps of at most
30 minutes, written here as one window query, not the pipeline's SQL)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import yaml

from conv_assets.generate import generate

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 150


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expected(landing: Path, days: list[date]) -> dict:
    """Per day, from the landed files alone: events, sessions, orders and revenue."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files = [str(p) for p in landing.rglob("*") if p.is_file() and p.suffix in (".csv", ".gz")
             and p.stat().st_size > 0]
    con.execute(
        "CREATE TABLE ev AS SELECT * FROM read_csv($f, union_by_name = true, all_varchar = true)",
        {"f": files},
    )
    con.execute("""
        CREATE TABLE e AS SELECT user_id, event_type, order_id,
            CAST(CAST(event_time AS TIMESTAMPTZ) AS TIMESTAMP) AS ts,
            CAST(price AS DECIMAL(18, 4)) * CAST(quantity AS INTEGER) AS line
        FROM ev""")
    out = {}
    for d in days:
        n, orders, revenue = con.execute(
            "SELECT count(*), count(DISTINCT order_id) FILTER (event_type = 'purchase'), "
            "sum(line) FILTER (event_type = 'purchase') FROM e WHERE CAST(ts AS DATE) = $d",
            {"d": d}).fetchone()
        out[d] = {"events": n, "orders": orders, "revenue": float(revenue or 0)}
    sessions = con.execute("""
        WITH g AS (SELECT user_id, ts, CASE WHEN ts - lag(ts) OVER (PARTITION BY user_id ORDER BY ts)
                   <= INTERVAL 30 MINUTE THEN 0 ELSE 1 END AS new_session FROM e),
             s AS (SELECT user_id, ts, new_session,
                   sum(new_session) OVER (PARTITION BY user_id ORDER BY ts) AS n FROM g)
        SELECT CAST(min(ts) AS DATE) AS day, 1 AS one FROM s GROUP BY user_id, n""").fetchall()
    for d in days:
        out[d]["sessions"] = sum(1 for day, _ in sessions if day == d)
    # The default user funnel (view, cart after it, purchase after that, within 7 days of the
    # day's first view), users per entry day and step, across sessions.
    steps = con.execute("""
        WITH entries AS (SELECT user_id, CAST(ts AS DATE) AS d, min(ts) AS t0 FROM e
                         WHERE event_type = 'view' GROUP BY ALL),
        carts AS (SELECT n.user_id, n.d, n.t0, min(x.ts) AS t1 FROM entries n
                  JOIN e x ON x.user_id = n.user_id AND x.event_type = 'cart' AND x.ts >= n.t0
                   AND x.ts <= n.t0 + INTERVAL 7 DAY GROUP BY ALL),
        buys AS (SELECT c.user_id, c.d FROM carts c
                 JOIN e x ON x.user_id = c.user_id AND x.event_type = 'purchase' AND x.ts >= c.t1
                  AND x.ts <= c.t0 + INTERVAL 7 DAY GROUP BY ALL)
        SELECT d, 1, count(*) FROM entries GROUP BY d UNION ALL SELECT d, 2, count(*) FROM carts
        GROUP BY d UNION ALL SELECT d, 3, count(*) FROM buys GROUP BY d""").fetchall()
    for d in days:
        for k in (1, 2, 3):
            out[d][f"funnel_step_{k}"] = sum(n for day, s, n in steps if day == d and s == k)
    con.close()
    return out


# Whole rows for the event tables; exact columns for the derived ones (float averages may differ in
# the last bit); the total sales series (the top categories of a day are those of the history
# when it was built).
CHECKSUMS = {
    "raw.events": "SELECT count(*), bit_xor(hash(x)) FROM raw.events x WHERE event_date BETWEEN $a AND $b",
    "clean.events": "SELECT count(*), bit_xor(hash(x)) FROM clean.events x "
                    "WHERE event_date BETWEEN $a AND $b",
    "clean.quarantine": "SELECT count(*), bit_xor(hash(x)) FROM clean.quarantine x "
                        "WHERE event_date BETWEEN $a AND $b",
    "analytics.sessions": "SELECT count(*), bit_xor(hash(session_id, user_id, session_start, events, "
                          "revenue, order_ids, cart_abandoned)) FROM analytics.sessions "
                          "WHERE session_date BETWEEN $a AND $b",
    "analytics.daily_funnel": "SELECT count(*), bit_xor(hash(event_date, category, sessions, "
                              "sessions_with_cart, orders, units, revenue)) FROM analytics.daily_funnel "
                              "WHERE event_date BETWEEN $a AND $b",
    "analytics.user_funnel": "SELECT count(*), bit_xor(hash(funnel, entry_date, breakdown, breakdown_value, "
                             "step, entered, converted)) FROM analytics.user_funnel "
                             "WHERE entry_date BETWEEN $a AND $b",
    "analytics.daily_sales": "SELECT count(*), bit_xor(hash(event_date, orders, units, revenue, buyers)) "
                             "FROM analytics.daily_sales WHERE series = 'total' AND event_date BETWEEN $a AND $b",
}


def day_checksums(connect, first: date, last: date) -> dict:
    con = connect()
    try:
        return {t: con.execute(q, {"a": first, "b": last}).fetchone() for t, q in CHECKSUMS.items()}
    finally:
        con.close()


def file_reader(path: Path):
    return lambda: duckdb.connect(str(path), read_only=True)


def observed(connect, days: list[date]) -> dict | None:
    """The same figures from the warehouse (a short read-only connection), or None if locked."""
    try:
        con = connect()
    except Exception:  # a locked file, a lake not created yet
        return None
    try:
        out = {}
        for d in days:
            q = {"d": d}
            events = con.execute("SELECT count(*) FROM clean.events WHERE event_date = $d", q).fetchone()[0]
            sessions = con.execute(
                "SELECT count(*) FROM analytics.sessions WHERE session_date = $d", q).fetchone()[0]
            funnel = con.execute(
                "SELECT sessions, orders FROM analytics.daily_funnel "
                "WHERE event_date = $d AND category = '(all)'", q).fetchone()
            sales = con.execute(
                "SELECT revenue FROM analytics.daily_sales WHERE event_date = $d AND series = 'total'",
                q).fetchone()
            reached = dict(con.execute(
                "SELECT step, entered FROM analytics.user_funnel WHERE funnel = 'purchase' "
                "AND breakdown = 'all' AND entry_date = $d", q).fetchall())
            out[d] = {**{f"funnel_step_{k}": reached.get(k, 0) for k in (1, 2, 3)},
                      "events": events, "sessions": sessions,
                      "funnel_sessions": funnel[0] if funnel else None,
                      "orders": funnel[1] if funnel else None,
                      "revenue": float(sales[0]) if sales and sales[0] is not None else None}
        return out
    except duckdb.Error:
        return None
    finally:
        con.close()


def wait_until_matches(landing: Path, warehouse, days: list[date], what: str) -> None:
    want = expected(landing, days)
    for d in want:
        want[d]["funnel_sessions"] = want[d]["sessions"]
    deadline = time.monotonic() + WAIT_SECONDS
    got = None
    while time.monotonic() < deadline:
        got = observed(warehouse, days)
        if got is not None and all(
            got[d][k] == (round(v, 4) if isinstance(v, float) else v)
            for d in days for k, v in want[d].items()
        ):
            return
        time.sleep(2)
    raise AssertionError(f"{what}: after {WAIT_SECONDS}s the warehouse shows {got}, expected {want}")


class Deployment:
    """dagster-daemon (and optionally the webserver) on a temporary DAGSTER_HOME."""

    def __init__(self, tmp: Path, lake=None) -> None:
        self.home = tmp / "home"
        self.home.mkdir()
        # File mode: the project's dagster.yaml. Lake mode: deployment (a), deploy/local.
        instance_yaml = ROOT / "deploy" / "local" / "dagster.yaml" if lake else ROOT / "dagster.yaml"
        config = yaml.safe_load(instance_yaml.read_text())
        config["run_monitoring"]["poll_interval_seconds"] = 2
        (self.home / "dagster.yaml").write_text(yaml.safe_dump(config))
        self.landing = tmp / "landing"
        self.landing.mkdir()
        self.warehouse = tmp / "wh.duckdb"
        self.pause = tmp / "pause"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CONV_", "DAGSTER_"))}
        self.env = {
            **base, "DAGSTER_HOME": str(self.home), "CONV_LANDING_DIR": str(self.landing),
            "CONV_WAREHOUSE": str(self.warehouse), "CONV_START_DATE": "2020-01-01",
            "CONV_LANDING_SENSOR_SECONDS": "2", "CONV_CHAIN_SENSOR_SECONDS": "2",
            "CONV_AUTOMATION_SENSOR_SECONDS": "5", "CONV_TEST_PAUSE_FILE": str(self.pause),
            # The analyst copy's cadence (hourly by default), shortened so the test sees it follow.
            "CONV_ANALYST_COPY_CRON": "* * * * *",
        }
        self.lake = lake
        if lake:
            self.env.update(lake.env, DAGSTER_PG_URL=lake.dagster_pg_url)
        # How a test reads the warehouse: a short read-only connection.
        self.read = (lambda: lake.connect(read_only=True)) if lake else file_reader(self.warehouse)
        self.daemon: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.log = tmp / "daemon.log"

    def start_daemon(self) -> None:
        exe = Path(sys.executable).parent / "dagster-daemon"
        self.daemon = subprocess.Popen(
            [str(exe), "run", "-w", "workspace.yaml"], cwd=ROOT, env=self.env,
            stdout=self.log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)

    def kill_daemon(self) -> None:
        """SIGKILL the daemon and everything it started (code server, run processes)."""
        sid = self.daemon.pid
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:  # session id
                try:
                    os.kill(int(stat.parent.name), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.daemon.wait(timeout=30)

    def start_web(self) -> int:
        port = _free_port()
        exe = Path(sys.executable).parent / "dagster-webserver"
        self.web_log = self.log.with_name("webserver.log")
        self.web = subprocess.Popen(
            [str(exe), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)], cwd=ROOT,
            env=self.env, stdout=self.web_log.open("a"), stderr=subprocess.STDOUT,
            start_new_session=True)
        return port

    def stop(self) -> None:
        for proc in (self.daemon, self.web):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)

    def instance(self) -> dg.DagsterInstance:
        from dagster._core.instance.ref import InstanceRef

        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self.home)))


def graphql(port: int, query: str, web: subprocess.Popen | None = None) -> dict:
    deadline = time.monotonic() + 240
    while True:
        if web is not None and web.poll() is not None:
            raise AssertionError(f"the webserver exited with {web.returncode}")
        try:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read())["data"]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def test_daemon_keeps_every_day_right(tmp_path, monkeypatch):
    run_daemon_scenario(tmp_path, monkeypatch)


def run_daemon_scenario(tmp_path, monkeypatch, lake=None) -> None:
    """Also run on a lake by tests/lake/test_lake_daemon.py."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=12)
    days = [first + timedelta(days=i) for i in range(7)]
    src = tmp_path / "generated"
    generate(src, days=7, users=300, events_per_day=2_500, seed=3, start=first, dirty_per_kind=0)
    name = {d: f"events_{d.isoformat()}.csv" for d in days}
    dep = Deployment(tmp_path, lake)
    monkeypatch.setenv("DAGSTER_HOME", str(dep.home))
    if lake:
        monkeypatch.setenv("DAGSTER_PG_URL", lake.dagster_pg_url)
    try:
        dep.start_daemon()
        port = dep.start_web()

        # Phase 1: the first days (one gap left for a late file).
        for d in (days[0], days[1], days[2], days[4]):
            shutil.copy(src / name[d], dep.landing / name[d])
        wait_until_matches(dep.landing, dep.read, days[:5], "first days")

        # Phase 2: a late day in the middle, plus a header-only export.
        shutil.copy(src / name[days[3]], dep.landing / name[days[3]])
        header = (src / name[days[0]]).read_text().splitlines()[0]
        (dep.landing / "export_empty.csv").write_text(header + "\n")
        wait_until_matches(dep.landing, dep.read, days[:5], "late day")

        # Phase 3: a gzip export.
        (dep.landing / f"{name[days[5]]}.gz").write_bytes(gzip.compress((src / name[days[5]]).read_bytes()))
        wait_until_matches(dep.landing, dep.read, days[:6], "gzip day")

        con = dep.read()
        files = dict(con.execute("SELECT path, status || ':' || rows FROM ops.ingested_files").fetchall())
        con.close()
        assert files["export_empty.csv"] == "empty:0"
        assert files[f"{name[days[5]]}.gz"].startswith("loaded:")

        # The UI sees the late day's funnel, materialized by the daemon without a manual step.
        query = ('{ assetOrError(assetKey: {path: ["analytics", "daily_funnel"]}) { ... on Asset '
                 '{ assetMaterializations(partitions: ["DAY"]) { partition runId } } } }')
        late = graphql(port, query.replace("DAY", days[3].isoformat()), dep.web)
        assert late["assetOrError"]["assetMaterializations"], late

        # Phase 4: a changed version of an old day's file. The run pauses inside its write
        # transaction; the daemon and the run are killed there, then the daemon restarts.
        dep.pause.write_text("pause")
        generate(tmp_path / "v2", days=1, users=300, events_per_day=4_000, seed=11, start=days[1],
                 dirty_per_kind=0)
        os.replace(tmp_path / "v2" / name[days[1]], dep.landing / name[days[1]])
        reached = Path(f"{dep.pause}.reached")
        deadline = time.monotonic() + WAIT_SECONDS
        while not reached.exists():
            assert time.monotonic() < deadline, "the run never reached the pause point"
            time.sleep(0.5)
        instance = dep.instance()
        killed = [r for r in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
                  if r.tags.get("conv/landed_file") == name[days[1]]]
        assert len(killed) == 1
        dep.kill_daemon()
        dep.pause.unlink()
        dep.start_daemon()
        wait_until_matches(dep.landing, dep.read, days[:6], "after kill and restart")

        # The killed run was failed by run monitoring and retried once; the file version was
        # loaded exactly once (its rows are in raw.events once).
        run = instance.get_run_by_id(killed[0].run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        retries = instance.get_runs(dg.RunsFilter(tags={"dagster/parent_run_id": run.run_id}))
        assert [r.status for r in retries] == [dg.DagsterRunStatus.SUCCESS]
        con = dep.read()
        loaded = con.execute("SELECT count(*), count(DISTINCT source_row) FROM raw.events "
                             "WHERE source_file = $f", {"f": name[days[1]]}).fetchone()
        con.close()
        assert loaded[0] == loaded[1] == expected(dep.landing, [days[1]])[days[1]]["events"]

        # The daily schedule's tick: yesterday's raw and clean events, then the chain sensor
        # rebuilds that day's analytics (+-1 day) in the running daemon.
        from conv_assets.jobs import models_job
        from conv_assets.schedules import daily_schedule, models_schedule

        tick_time = datetime.combine(days[5] + timedelta(days=1), datetime.min.time()).replace(hour=1)
        request = daily_schedule(dg.build_schedule_context(instance=instance,
                                                           scheduled_execution_time=tick_time))
        assert request.tags["dagster/asset_partition_range_start"] == days[5].isoformat()
        assert models_schedule.job_name == models_job.name
        # Submitted to the instance as the schedule would (the daemon's queue launches it).
        tags = {**request.tags, "conv/test": "nightly"}
        launch = subprocess.run(
            [str(Path(sys.executable).parent / "dagster"), "job", "launch", "-w", "workspace.yaml",
             "-j", daily_schedule.job_name, "--tags", json.dumps(tags)],
            cwd=ROOT, env=dep.env, capture_output=True, text=True, timeout=300)
        assert launch.returncode == 0, launch.stderr[-2000:]
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            [nightly] = instance.get_runs(dg.RunsFilter(tags={"conv/test": "nightly"}))
            if nightly.status == dg.DagsterRunStatus.SUCCESS:
                break
            assert time.monotonic() < deadline, f"the nightly run did not finish: {nightly.status}"
            time.sleep(2)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            chained = instance.get_runs(dg.RunsFilter(job_name="daily_analytics_job",
                                                      tags={"conv/after_run": nightly.run_id}))
            funnels = instance.get_runs(dg.RunsFilter(job_name="funnel_job",
                                                      tags={"conv/after_run": nightly.run_id}))
            if chained and funnels and all(r[0].status == dg.DagsterRunStatus.SUCCESS
                                           for r in (chained, funnels)):
                break
            assert time.monotonic() < deadline, f"no daily analytics after the nightly run: {chained}"
            time.sleep(2)
        assert chained[0].tags["dagster/asset_partition_range_start"] == days[4].isoformat()
        assert chained[0].tags["dagster/asset_partition_range_end"] == (days[6] + timedelta(days=1)).isoformat()
        # the user funnels of the entry days whose 7-day window holds the rebuilt days
        assert funnels[0].tags["dagster/asset_partition_range_start"] == (
            days[5] - timedelta(days=7)).isoformat()
        assert funnels[0].tags["dagster/asset_partition_range_end"] == days[6].isoformat()
        wait_until_matches(dep.landing, dep.read, days[:6], "after the nightly run")

        # Equal, by checksums, to one uninterrupted in-process run over the same files.
        ref = tmp_path / "ref.duckdb"
        (tmp_path / "refhome").mkdir()
        daily = " or ".join(f"key:{k}" for k in ("raw/events", "clean/events", "analytics/sessions",
                                                 "analytics/daily_funnel", "analytics/daily_sales",
                                                 "analytics/user_funnel"))
        done = subprocess.run(
            [str(Path(sys.executable).parent / "conv-assets"), "run", "--select", daily],
            env={**{k: v for k, v in dep.env.items() if not k.startswith("CONV_LAKE")},
                 "CONV_WAREHOUSE": str(ref), "DAGSTER_HOME": str(tmp_path / "refhome"),
                 "CONV_ANALYST_COPY": str(tmp_path / "ref_analyst.duckdb")},
            cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert day_checksums(dep.read, days[0], days[5]) == day_checksums(file_reader(ref), days[0], days[5])
        # Beyond the landed days the daemon built the neighbouring days too: all zeros.
        con = dep.read()
        assert con.execute("SELECT coalesce(max(sessions), 0) FROM analytics.daily_funnel "
                           "WHERE event_date < $a OR event_date > $b",
                           {"a": days[0], "b": days[5]}).fetchone()[0] == 0
        con.close()

        if lake:
            return  # analysts attach the lake itself: there is no copy to follow
        # The analyst copy follows on its own (automation), with the same events.
        deadline = time.monotonic() + WAIT_SECONDS
        want = observed(dep.read, days[:6])
        while observed(file_reader(dep.warehouse.with_name("analyst.duckdb")), days[:6]) != want:
            assert time.monotonic() < deadline, "the analyst copy was not republished"
            time.sleep(2)
    finally:
        dep.stop()
        if os.environ.get("CONV_KEEP_E2E_LOG"):
            print(dep.log.read_text()[-20000:])
        web_log = getattr(dep, "web_log", None)
        if web_log is not None and web_log.exists():
            print("webserver log (end):", web_log.read_text()[-3000:])
