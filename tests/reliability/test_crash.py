"""The writer killed with SIGKILL mid-rebuild: the warehouse reopens whole (scenario 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from conv_assets.generate import generate

# Whole rows for the event tables; exact columns for the derived ones (float averages summed in
# parallel, and mode() between equally frequent categories, may differ in the last bit).
TABLES = {
    "raw.events": "SELECT count(*), bit_xor(hash(x)) FROM raw.events x",
    "clean.events": "SELECT count(*), bit_xor(hash(x)) FROM clean.events x",
    "clean.quarantine": "SELECT count(*), bit_xor(hash(x)) FROM clean.quarantine x",
    "analytics.sessions": "SELECT count(*), bit_xor(hash(session_id, user_id, session_start, "
                          "events, revenue, order_ids, cart_abandoned)) FROM analytics.sessions",
    "analytics.daily_funnel": "SELECT count(*), bit_xor(hash(event_date, category, sessions, "
                              "sessions_with_cart, orders, units, revenue)) FROM analytics.daily_funnel",
    # The total only: the top categories of a day are those of the history when it was built.
    "analytics.daily_sales": "SELECT count(*), bit_xor(hash(event_date, orders, units, revenue, "
                             "buyers)) FROM analytics.daily_sales WHERE series = 'total'",
}


def checksums(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(sql).fetchall()[0] for t, sql in TABLES.items()}
    finally:
        con.close()


def day_state(path: Path, day: date) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return tuple(con.execute(f"SELECT count(*), bit_xor(hash(x)) FROM {t} x WHERE event_date = $d",
                                 {"d": day}).fetchall()[0] for t in ("raw.events", "clean.events"))
    finally:
        con.close()


def run_cli(env: dict, cwd: Path) -> None:
    cli = str(Path(sys.executable).parent / "conv-assets")
    subprocess.run([cli, "run"], env=env, cwd=cwd, check=True, capture_output=True, timeout=600)


def test_sigkill_mid_rebuild_leaves_old_or_new_and_rerun_matches(tmp_path):
    landing = tmp_path / "landing"
    generate(landing, days=6, users=400, events_per_day=30_000, seed=9, start=date(2024, 3, 4))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CONV_", "DAGSTER_HOME"))}
    env = {**base, "CONV_LANDING_DIR": str(landing), "CONV_WAREHOUSE": str(tmp_path / "wh.duckdb")}
    run_cli(env, tmp_path)
    day = date(2024, 3, 6)
    old = day_state(tmp_path / "wh.duckdb", day)

    # A new version of one day's file, then a run killed while it rewrites the warehouse.
    target = landing / f"events_{day.isoformat()}.csv"
    generate(tmp_path / "v2", days=1, users=400, events_per_day=60_000, seed=10, start=day)
    os.replace(tmp_path / "v2" / target.name, target)
    # The run pauses inside raw.events' write transaction (after the delete and the inserts,
    # before COMMIT) and is killed exactly there.
    pause = tmp_path / "pause"
    pause.write_text("x")
    cli = str(Path(sys.executable).parent / "conv-assets")
    proc = subprocess.Popen([cli, "run"], env={**env, "CONV_TEST_PAUSE_FILE": str(pause)},
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reached = Path(f"{pause}.reached")
    deadline = time.monotonic() + 300
    while not reached.exists():
        assert proc.poll() is None, "the run ended before reaching the pause point"
        assert time.monotonic() < deadline, "the run never reached the pause point"
        time.sleep(0.1)
    assert reached.read_text() == "raw.events"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    pause.unlink()

    # Reference: the final landing directory loaded by an uninterrupted run.
    ref = {**env, "CONV_WAREHOUSE": str(tmp_path / "ref.duckdb")}
    run_cli(ref, tmp_path)
    new = day_state(tmp_path / "ref.duckdb", day)
    assert new != old

    # Killed before COMMIT: raw and clean of the day are both exactly the old version.
    assert day_state(tmp_path / "wh.duckdb", day) == old

    run_cli(env, tmp_path)
    assert checksums(tmp_path / "wh.duckdb") == checksums(tmp_path / "ref.duckdb")
