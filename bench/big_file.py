"""One landed export of several GB: the sensor's scan and raw.events load it with bounded memory.

    python bench/big_file.py                 # 30M rows, about 3 GB of CSV, as one .csv.gz
    python bench/big_file.py --copies 5      # quick look (5M rows)

Writes one gzip file (the usual form of a daily export) made of a generated day repeated with
fresh event ids, then, each in its own process so peak RSS is its own: the landing sensor's way
of finding the file's days (`file_days`), and `raw/events` for that day. Prints wall time, peak
RSS and the uncompressed size.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

DAY = date(2024, 3, 4)


def _child(step: str, path: str, warehouse: str) -> None:
    os.environ["CONV_LANDING_DIR"] = str(Path(path).parent)
    os.environ["CONV_WAREHOUSE"] = warehouse
    t0 = time.perf_counter()
    if step == "scan":
        from conv_assets.sources import SOURCES, file_days

        lo, hi, rows = file_days(SOURCES["canonical"], Path(path), "big", date(2000, 1, 1),
                                 date(2030, 1, 1))
        out = {"rows": rows, "first_day": str(lo), "last_day": str(hi)}
    else:
        import dagster as dg

        from conv_assets.definitions import ASSETS, build_resources

        result = dg.materialize(
            ASSETS, resources=build_resources(), partition_key=DAY.isoformat(),
            selection=dg.AssetSelection.from_string("key:raw/events"),
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        import duckdb

        con = duckdb.connect(warehouse, read_only=True)
        out = {"rows": con.execute("SELECT count(*) FROM raw.events").fetchone()[0],
               "success": result.success}
        con.close()
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=30, help="copies of a 1M-event day")
    ap.add_argument("--dir", default=None)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    from conv_assets.generate import generate

    work = Path(args.dir or tempfile.mkdtemp(prefix="conv-big-"))
    landing = work / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    seed_dir = work / "seed"
    [day_file] = generate(seed_dir, days=1, users=200_000, events_per_day=1_000_000, seed=1,
                          start=DAY, dirty_per_kind=0)
    header, _, body = day_file.read_bytes().partition(b"\n")
    big = landing / "export.csv.gz"
    t0 = time.perf_counter()
    raw_bytes = 0
    with gzip.open(big, "wb", compresslevel=1) as fh:
        fh.write(header + b"\n")
        for k in range(args.copies):
            part = body.replace(b"\nE", f"\nC{k}-E".encode())
            if not part.startswith(b"C"):
                part = f"C{k}-".encode() + part
            fh.write(part)
            raw_bytes += len(part)
    written = time.perf_counter() - t0
    print(f"wrote {big}: {big.stat().st_size / 1e9:.2f} GB gzip, {raw_bytes / 1e9:.2f} GB of CSV, "
          f"{args.copies} x 1M rows, in {written:.0f} s", flush=True)
    for step in ("scan", "raw"):
        done = subprocess.run([sys.executable, __file__, "--child", step, str(big),
                               str(work / "wh.duckdb")], capture_output=True, text=True)
        if done.returncode:
            print(done.stderr[-3000:])
            raise SystemExit(f"{step} failed")
        print(f"{step}: {done.stdout.strip().splitlines()[-1]}", flush=True)


if __name__ == "__main__":
    main()
