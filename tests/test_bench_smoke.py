"""A tiny run of the benchmark script, so it cannot rot (figures are not asserted: speed lives in bench/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_script_runs_at_tiny_size(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "bench/run.py", "--sizes", "3000", "--days", "3", "--growth-days", "100",
         "--no-uci", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={k: v for k, v in os.environ.items() if not k.startswith(("CONV_", "DAGSTER_HOME"))},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["cores"] >= 1 and "duckdb" in report["versions"]
    size = report["sizes"][0]
    assert size["events"] == 3000
    for key in ("ingest_clean_vs_read_csv", "funnel_vs_sql", "als_fit_vs_bare", "matrix_vs_fit",
                "end_to_end_vs_read_csv", "end_to_end_vs_2x_bare_sum_plus_30s"):
        assert size["ratios"][key] > 0, key
    assert set(report["growth"]["add_one_day_seconds"]) == {"30", "60", "90"}
    # Peak memory is attributed to a step, and the targets are printed.
    assert size["peak_step"] in size["steps"] or size["peak_step"] in size["step_peak_rss_mb"]
    # The largest size names the owners of its peak step's memory (memray).
    owners = size["memory_owners"]
    assert owners["step"] == size["peak_step"] and owners["peak_mb"] > 0
    assert owners["owners_mb"] and all(mb > 0 for mb in owners["owners_mb"].values())
    assert "again under memray" in proc.stdout
    assert "targets (the scale issue)" in proc.stdout
    assert "ingest+clean" in proc.stdout
