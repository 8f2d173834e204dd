"""Checksums of every table in a warehouse, to show an optimisation changed no table's content.

    python bench/checksums.py data/warehouse.duckdb --save before.json
    python bench/checksums.py data/warehouse.duckdb --compare before.json   # exit 1 on a difference

Per table: row count and bit_xor of a hash of every column except clock columns (when a row was
loaded); doubles rounded to 9 significant digits, since parallel float sums may differ in the last
bit (README, Known limits).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The tests' own table checksums, so the bench and the tests compare tables the same way.
from tests.sources.test_real_data import checksums_of_every_table  # noqa: E402 - after the path


class _Reader:
    """What checksums_of_every_table reads through: `query(sql, params)` on one connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        return self.con.execute(sql, params or {}).fetchall()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("warehouse")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--save")
    g.add_argument("--compare")
    p.add_argument("--skip", nargs="*", default=[], help="tables to leave out of the comparison")
    args = p.parse_args(argv)
    with duckdb.connect(args.warehouse, read_only=True) as con:
        now = {t: list(v) for t, v in checksums_of_every_table(_Reader(con)).items()}
    if args.save:
        with open(args.save, "w") as f:
            json.dump(now, f, indent=1)
        print(f"{len(now)} tables written to {args.save}")
        return 0
    with open(args.compare) as f:
        before = json.load(f)
    differ = sorted(t for t in set(before) | set(now)
                    if t not in args.skip and before.get(t) != now.get(t))
    for t in differ:
        print(f"DIFFERS {t}: before {before.get(t)}, now {now.get(t)}")
    print(f"{len(set(before) | set(now)) - len(differ)} tables equal, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
