"""Runs launched at once share the warehouse without lock errors, and end where a sequential run ends."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from conv_assets.generate import generate

ROOT = Path(__file__).resolve().parents[1]
SENSOR_RUN = """
import dagster as dg
from conv_assets.definitions import defs
job = defs.resolve_job_def("ingest_job")
tags = {"dagster/asset_partition_range_start": "2024-03-10", "dagster/asset_partition_range_end": "2024-03-12"}
assert job.execute_in_process(tags=tags, instance=dg.DagsterInstance.get()).success
"""
COUNTS = """SELECT (SELECT count(*) FROM raw.events), (SELECT count(*) FROM clean.events),
                   (SELECT count(*) FROM clean.quarantine), (SELECT count(*) FROM analytics.sessions),
                   (SELECT bit_xor(hash(e)) FROM clean.events e)"""


def _env(tmp_path: Path, landing: Path, name: str) -> dict[str, str]:
    home = tmp_path / f"home-{name}"
    home.mkdir(exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONV_")}
    env.update(CONV_LANDING_DIR=str(landing), CONV_WAREHOUSE=str(tmp_path / f"{name}.duckdb"),
               DAGSTER_HOME=str(home))
    return env


def _counts(path: Path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(COUNTS).fetchall()
    finally:
        con.close()


def test_backfill_and_sensor_run_at_once(tmp_path):
    landing = tmp_path / "landing"
    generate(landing, days=30, users=60, events_per_day=400, seed=5, start=date(2024, 2, 20))
    cli = str(Path(sys.executable).parent / "conv-assets")
    env = _env(tmp_path, landing, "together")
    # An analyst keeps a connection open on the published copy through all of it.
    subprocess.run([cli, "run"], env=env, cwd=tmp_path, check=True, capture_output=True)
    analyst = duckdb.connect(str(tmp_path / "analyst.duckdb"), read_only=True)
    before = analyst.execute("SELECT count(*) FROM clean.events").fetchall()
    procs = [
        subprocess.Popen([cli, "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True),
        subprocess.Popen([sys.executable, "-c", SENSOR_RUN], env=env, cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
        subprocess.Popen([cli, "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True),
    ]
    while any(p.poll() is None for p in procs):
        assert analyst.execute("SELECT count(*) FROM clean.events").fetchall() == before
        time.sleep(0.5)
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    analyst.close()
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out[-3000:]
        assert "Could not set lock" not in out

    seq_env = _env(tmp_path, landing, "sequential")
    subprocess.run([cli, "run"], env=seq_env, cwd=tmp_path, check=True, capture_output=True)
    assert _counts(tmp_path / "together.duckdb") == _counts(tmp_path / "sequential.duckdb")
