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

import duckdb

CLOCK_COLUMNS = ("loaded_at", "applied_at", "requested_at")


def checksums(con: duckdb.DuckDBPyConnection) -> dict[str, list[int]]:
    out = {}
    for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() ORDER BY 1, 2").fetchall():
        cols = [
            f'round("{c}", 9 - CAST(ceil(log10(abs("{c}") + 1)) AS INTEGER))' if t == "DOUBLE"
            else f'"{c}"'
            for c, t in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = $s "
                "AND table_name = $t AND database_name = current_database() ORDER BY column_index",
                {"s": schema, "t": table}).fetchall()
            if c not in CLOCK_COLUMNS
        ]
        # Names come from DuckDB's own catalog.
        n, h = con.execute(f'SELECT count(*), bit_xor(hash({", ".join(cols)})) '
                           f'FROM "{schema}"."{table}"').fetchall()[0]
        out[f"{schema}.{table}"] = [n, h]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("warehouse")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--save")
    g.add_argument("--compare")
    p.add_argument("--skip", nargs="*", default=[], help="tables to leave out of the comparison")
    args = p.parse_args(argv)
    with duckdb.connect(args.warehouse, read_only=True) as con:
        now = checksums(con)
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
