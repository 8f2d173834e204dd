"""Erasure: remove users from every table, rebuild what they were in, compact the file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from conv_assets.privacy import as_stored, erasure_hash
from conv_assets.resources import Warehouse, open_warehouse, run_sql, sql_literal, transaction
from conv_assets.settings import Settings


@dataclass(frozen=True)
class ForgetOutcome:
    users: int
    rows_deleted: dict[str, int]
    bytes_before: int
    bytes_after: int


def delete_users(warehouse: Warehouse, raw_ids: list[str]) -> dict[str, int]:
    """Record the erasure and delete the users' rows from every table with a user_id column."""
    stored = as_stored(raw_ids)
    with warehouse.connect() as con:
        tables = run_sql(con, "ops/select_user_tables").fetchall()
        deleted = {}
        with transaction(con, "ops.erasures", "ops.ingested_file_days",
                         *[f"{s}.{t}" for s, t in tables]):
            run_sql(con, "ops/insert_erasures", user_hashes=[erasure_hash(u) for u in stored])
            run_sql(con, "ops/subtract_erased_file_days", ids=stored)
            for schema, table in tables:
                # Names come from DuckDB's own catalog, never from input.
                name = f'"{schema}"."{table}"'
                n = con.execute(
                    f"DELETE FROM {name} WHERE user_id IN (SELECT unnest(CAST($ids AS VARCHAR[])))",
                    {"ids": stored},
                ).fetchall()[0][0]
                deleted[f"{schema}.{table}"] = int(n)
    return deleted


def compact(warehouse: str) -> None:
    """Rewrite the warehouse into a fresh file and swap it in, so deleted rows are physically
    gone (DuckDB reuses freed blocks but does not scrub them)."""
    path = Path(warehouse)
    tmp = path.with_name(f".{path.name}.compact")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        # DuckDB 1.5 takes no parameter in ATTACH: the path (our own setting, not data) is
        # written as a quoted SQL string literal.
        con.execute(f"ATTACH {sql_literal(str(path))} AS src")
        con.execute("CHECKPOINT src")
        con.execute(f"ATTACH {sql_literal(str(tmp))} AS fresh")
        con.execute("COPY FROM DATABASE src TO fresh")
        con.execute("DETACH fresh")
        os.replace(tmp, path)
    finally:
        con.close()
    # Comments and views are (re)created on the next open.
    open_warehouse(str(path)).close()


def forget(settings: Settings, raw_ids: list[str]) -> ForgetOutcome:
    """Erase users, rebuild the tables derived from clean events, then make the deletion
    physical: compact and republish the file, or on a lake rewrite the data files that held
    the rows and drop every older snapshot and unreferenced file (time travel to before the
    erasure ends here: that is the point)."""
    from conv_assets.ops.assets import lake_bytes, maintain_lake, publish
    from conv_assets.pipeline import rebuild_from_clean

    warehouse = Warehouse.from_settings(settings)
    if warehouse.is_lake:
        with warehouse.connect(read_only=True) as con:
            before = lake_bytes(con)
    else:
        before = Path(settings.warehouse).stat().st_size
    deleted = delete_users(warehouse, raw_ids)
    rebuild_from_clean(settings)
    if warehouse.is_lake:
        with warehouse.connect() as con:
            maintain_lake(con, keep_days=0, delete_threshold=0)
            after = lake_bytes(con)
        return ForgetOutcome(len(raw_ids), deleted, before, after)
    compact(settings.warehouse)
    publish(warehouse)
    return ForgetOutcome(len(raw_ids), deleted, before, Path(settings.warehouse).stat().st_size)
