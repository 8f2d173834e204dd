"""Erasure: remove users from every table, rebuild what they were in, compact the file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from conv_assets.privacy import as_stored, erasure_hash
from conv_assets.resources import open_warehouse, run_sql
from conv_assets.settings import Settings


@dataclass(frozen=True)
class ForgetOutcome:
    users: int
    rows_deleted: dict[str, int]
    bytes_before: int
    bytes_after: int


def delete_users(warehouse: str, raw_ids: list[str]) -> dict[str, int]:
    """Record the erasure and delete the users' rows from every table with a user_id column."""
    stored = as_stored(raw_ids)
    con = open_warehouse(warehouse)
    try:
        con.execute("BEGIN TRANSACTION")
        run_sql(con, "ops/insert_erasures", user_hashes=[erasure_hash(u) for u in stored])
        run_sql(con, "ops/subtract_erased_file_days", ids=stored)
        tables = run_sql(con, "ops/select_user_tables").fetchall()
        deleted = {}
        for schema, table in tables:
            # Names come from DuckDB's own catalog, never from input.
            name = f'"{schema}"."{table}"'
            n = con.execute(
                f"DELETE FROM {name} WHERE user_id IN (SELECT unnest(CAST($ids AS VARCHAR[])))",
                {"ids": stored},
            ).fetchall()[0][0]
            deleted[f"{schema}.{table}"] = int(n)
        con.execute("COMMIT")
    finally:
        con.close()
    return deleted


def path_literal(path: Path) -> str:
    """A file path as an SQL string literal ('' doubles a quote; NUL cannot be in a path)."""
    text = str(path)
    if "\x00" in text:
        raise ValueError("a path cannot contain NUL")
    return "'" + text.replace("'", "''") + "'"


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
        con.execute(f"ATTACH {path_literal(path)} AS src")
        con.execute("CHECKPOINT src")
        con.execute(f"ATTACH {path_literal(tmp)} AS fresh")
        con.execute("COPY FROM DATABASE src TO fresh")
        con.execute("DETACH fresh")
        os.replace(tmp, path)
    finally:
        con.close()
    # Comments and views are (re)created on the next open.
    open_warehouse(str(path)).close()


def forget(settings: Settings, raw_ids: list[str]) -> ForgetOutcome:
    """Erase users, rebuild the tables derived from clean events, compact, republish."""
    from conv_assets.pipeline import rebuild_from_clean

    before = Path(settings.warehouse).stat().st_size
    deleted = delete_users(settings.warehouse, raw_ids)
    rebuild_from_clean(settings)
    compact(settings.warehouse)
    from conv_assets.definitions import build_resources
    from conv_assets.ops.assets import publish

    publish(build_resources()["warehouse"])
    return ForgetOutcome(len(raw_ids), deleted, before, Path(settings.warehouse).stat().st_size)
