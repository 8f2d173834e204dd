"""The lake against the file: the whole pipeline on the same generated events through the DuckDB
file and through DuckLake (PostgreSQL catalog, Parquet data), and a daily backfill as one run
against four concurrent runs on the lake.

    python bench/lake.py                                   # 8M events; 90-day backfill
    python bench/lake.py --events 1000000 --backfill-events-per-day 20000   # quick look

Starts its own PostgreSQL with deploy/local/postgres.sh unless CONV_TEST_POSTGRES gives one.
Every run is `conv-assets run` or a Dagster job in a process of its own, as users run them.
Prints the figures and writes them to bench/results/lake.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.lake.conftest import create_database, pg_url  # noqa: E402 - after the path
from tests.lake.test_lake import RUN_RANGE, day_checksums  # noqa: E402 - after the path

BIN = Path(sys.executable).parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONV_", "DAGSTER_"))}
    return {**env, **extra}


def _lake(server: str, root: Path, name: str) -> dict[str, str]:
    return {"CONV_LAKE": f"ducklake:postgres:dbname={create_database(server, 'lake')} {server}",
            "CONV_LAKE_DATA_PATH": str(root / name) + "/"}


def _timed_procs(cmds: list[list[str]], env: dict, cwd: Path) -> float:
    """Wall seconds from starting every command at once until the last one ended."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen(c, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for c in cmds]
    for p in procs:
        out = p.communicate()[0]
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmds[0][:3])} failed:\n{out[-4000:]}")
    return time.perf_counter() - t0




def _lake_con(lake: dict):
    from conv_assets.resources import open_warehouse

    return open_warehouse("", read_only=True, lake=lake["CONV_LAKE"],
                          lake_data_path=lake["CONV_LAKE_DATA_PATH"])


def _pipeline(args, server: str, work: Path, results: dict) -> None:
    from conv_assets.generate import generate

    land = work / "land"
    per_day = args.events // args.days
    generate(land, days=args.days, users=max(1000, args.events // 40), events_per_day=per_day,
             seed=1, start=date(2024, 1, 1))
    for mode in ("file", "lake"):
        extra = _lake(server, work, "lake_full") if mode == "lake" else {
            "CONV_WAREHOUSE": str(work / "full.duckdb")}
        env = _env(CONV_LANDING_DIR=str(land), **extra)
        wall = _timed_procs([[str(BIN / "conv-assets"), "run"]], env, work)
        results[f"pipeline_{mode}_seconds"] = round(wall, 1)
        print(f"{mode}: {per_day * args.days:,} events, whole pipeline {wall:.1f} s", flush=True)
    results["pipeline_events"] = per_day * args.days
    results["pipeline_lake_vs_file"] = round(
        results["pipeline_lake_seconds"] / results["pipeline_file_seconds"], 2)
    shutil.rmtree(land)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=8_000_000, help="events for file vs lake")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--backfill-days", type=int, default=90)
    ap.add_argument("--backfill-events-per-day", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--skip-pipeline", action="store_true", help="only the backfill")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "lake.json"))
    args = ap.parse_args()
    from conv_assets.generate import generate

    work = Path(tempfile.mkdtemp(prefix="conv-lake-bench-"))
    work.chmod(0o755)
    server = os.environ.get("CONV_TEST_POSTGRES")
    pg_dir = None
    if not server:
        pg_dir = work / "pg"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.run(["bash", str(ROOT / "deploy/local/postgres.sh"), "start", str(pg_dir),
                                 str(port)], check=True, capture_output=True, text=True).stdout.strip()
    results: dict = {"date": date.today().isoformat(), "cores": os.cpu_count(),
                     "python": platform.python_version(), "duckdb": duckdb.__version__}
    try:
        # 1. The whole pipeline, file against lake, on the same files.
        if not args.skip_pipeline:
            _pipeline(args, server, work, results)

        # 2. The daily chain over the backfill days: one run against N concurrent runs.
        land = work / "backfill"
        first = date(2024, 1, 1)
        last = first + timedelta(days=args.backfill_days - 1)
        generate(land, days=args.backfill_days, users=max(1000, args.backfill_events_per_day // 4),
                 events_per_day=args.backfill_events_per_day, seed=2, start=first)
        sums = {}
        for runs in (1, args.runs):
            lake = _lake(server, work, f"lake_backfill_{runs}")
            home = work / f"home_{runs}"
            home.mkdir()
            shutil.copy(ROOT / "deploy/local/dagster.yaml", home / "dagster.yaml")
            url = pg_url(server, create_database(server, "dagster"))
            env = _env(CONV_LANDING_DIR=str(land), DAGSTER_HOME=str(home), DAGSTER_PG_URL=url, **lake)
            # Dagster's storage exists before the runs start, as in a deployment whose daemon is up.
            subprocess.run([str(BIN / "dagster"), "instance", "migrate"], env=env, check=True,
                           capture_output=True)
            step = -(-args.backfill_days // runs)
            ranges = [(first + timedelta(days=i), min(last, first + timedelta(days=i + step - 1)))
                      for i in range(0, args.backfill_days, step)]
            total = 0.0
            for job in ("ingest_job", "seams", "daily_analytics_job"):
                if job == "seams":
                    if runs == 1:
                        continue
                    # The first day of each split carries sessions over from the day before,
                    # which another run built: clean it again, in date order.
                    cmds = [[sys.executable, "-c", RUN_RANGE, "clean",
                             *[a.isoformat() for a, _ in ranges[1:]]]]
                else:
                    cmds = [[sys.executable, "-c", RUN_RANGE, job, a.isoformat(), b.isoformat()]
                            for a, b in ranges]
                wall = _timed_procs(cmds, env, work)
                results[f"backfill_{runs}_runs_{job}_seconds"] = round(wall, 1)
                total += wall
            results[f"backfill_{runs}_runs_seconds"] = round(total, 1)
            con = _lake_con(lake)
            sums[runs] = day_checksums(con, first, last)
            con.close()
            print(f"backfill {args.backfill_days} days x {args.backfill_events_per_day:,} events, "
                  f"{runs} run(s) at once: {total:.1f} s", flush=True)
        results["backfill_events"] = args.backfill_days * args.backfill_events_per_day
        results["backfill_speedup"] = round(
            results["backfill_1_runs_seconds"] / results[f"backfill_{args.runs}_runs_seconds"], 2)
        results["backfill_checksums_equal"] = sums[1] == sums[args.runs]
        results["backfill_tables_differing"] = sorted(
            t for t in sums[1] if sums[1][t] != sums[args.runs][t])
        print(f"speed-up with {args.runs} runs: {results['backfill_speedup']}x; checksums equal: "
              f"{results['backfill_checksums_equal']}")
    finally:
        if pg_dir is not None:
            subprocess.run(["bash", str(ROOT / "deploy/local/postgres.sh"), "stop", str(pg_dir)],
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
