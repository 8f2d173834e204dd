"""Erasure: remove users from every table and kept file, rebuild what they were in, and make
the deletion physical (rewrite the DuckDB file, or rewrite the lake's data files)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from conv_assets.privacy import as_stored, erasure_hash
from conv_assets.resources import Warehouse, open_warehouse, run_sql, sql_literal, transaction
from conv_assets.settings import Settings


@dataclass(frozen=True)
class ForgetOutcome:
    users: int
    rows_deleted: dict[str, int]
    bytes_before: int
    bytes_after: int


def user_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table with a user_id column, quoted (names from DuckDB's catalog, never input)."""
    return [f'"{s}"."{t}"' for s, t in run_sql(con, "ops/select_user_tables").fetchall()]


def rows_of(con: duckdb.DuckDBPyConnection, stored: list[str]) -> dict[str, int]:
    """Rows the (stored) ids still have, per table: a read, so no table is locked for nothing."""
    found = {}
    for name in user_tables(con):
        n = con.execute(
            f"SELECT count(*) FROM {name} WHERE user_id IN (SELECT unnest(CAST($ids AS VARCHAR[])))",
            {"ids": stored}).fetchall()[0][0]
        if n:
            found[name.replace('"', "")] = int(n)
    return found


def delete_users(con: duckdb.DuckDBPyConnection, stored: list[str]) -> dict[str, int]:
    """Record the erasure (a hash per id) and delete the ids' rows from every table with a
    user_id column, quarantine included, in one transaction. `stored`: ids as the warehouse
    keeps them (pseudonymised when a key is set)."""
    tables = user_tables(con)
    deleted = {}
    with transaction(con, "ops.erasures", "ops.ingested_file_days",
                     *[t.replace('"', "") for t in tables]):
        run_sql(con, "ops/insert_erasures", user_hashes=[erasure_hash(u) for u in stored])
        # Before raw.events loses the rows: the files' row counts no longer include them, so
        # rows_accounted_for still adds up.
        run_sql(con, "ops/subtract_erased_file_days", ids=stored)
        for name in tables:
            n = con.execute(
                f"DELETE FROM {name} WHERE user_id IN (SELECT unnest(CAST($ids AS VARCHAR[])))",
                {"ids": stored},
            ).fetchall()[0][0]
            deleted[name.replace('"', "")] = int(n)
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


def scrub_model_files(warehouse: Warehouse, stored: list[str]) -> int:
    """Drop the ids from the saved ALS model (models/als_ids.parquet and the user factors in
    models/als.npz), renumbering the users left; returns how many were dropped."""
    from conv_assets.recs.assets import model_dir

    ids_path, npz_path = model_dir(warehouse) / "als_ids.parquet", model_dir(warehouse) / "als.npz"
    if not ids_path.exists():
        return 0
    ids = pl.read_parquet(ids_path)
    gone = ids.filter((pl.col("kind") == "user") & pl.col("id").is_in(stored))
    if gone.is_empty():
        return 0
    users = (ids.filter((pl.col("kind") == "user") & ~pl.col("id").is_in(stored)).sort("index"))
    if npz_path.exists():
        with np.load(npz_path, allow_pickle=False) as z:
            arrays = dict(z)
        arrays["user_factors"] = arrays["user_factors"][users["index"].to_numpy()]
        tmp = npz_path.with_name(".als.tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, npz_path)
    renumbered = users.with_columns(pl.int_range(pl.len()).cast(ids.schema["index"]).alias("index"))
    tmp = ids_path.with_name(".als_ids.tmp.parquet")
    pl.concat([renumbered, ids.filter(pl.col("kind") != "user")]).write_parquet(tmp)
    os.replace(tmp, ids_path)
    return gone.height


def make_physical(warehouse: Warehouse, stored: list[str]) -> tuple[int, int]:
    """After rows were deleted (no connection open): the ids' bytes are gone from storage.
    File mode rewrites the file and republishes the analyst copy (if there is one); a lake
    rewrites every data file with a deleted row and keeps only the latest snapshot. The saved
    model loses the ids in both. Returns storage bytes before and after."""
    from conv_assets.ops.assets import analyst_copy_path, lake_bytes, maintain_lake, publish

    scrub_model_files(warehouse, stored)
    if warehouse.is_lake:
        with warehouse.connect() as con:
            before = lake_bytes(con)
            maintain_lake(con, keep_days=0, delete_threshold=0)
            return before, lake_bytes(con)
    before = Path(warehouse.path).stat().st_size
    compact(warehouse.path)
    if analyst_copy_path(warehouse.path).exists():
        publish(warehouse)
    return before, Path(warehouse.path).stat().st_size


def forget(settings: Settings, raw_ids: list[str]) -> ForgetOutcome:
    """Erase users, rebuild the tables derived from clean events, then make the deletion
    physical (time travel to before the erasure ends here on a lake: that is the point)."""
    from conv_assets.pipeline import rebuild_from_clean

    warehouse = Warehouse.from_settings(settings)
    stored = as_stored(raw_ids)
    with warehouse.connect() as con:
        deleted = delete_users(con, stored)
    rebuild_from_clean(settings)
    before, after = make_physical(warehouse, stored)
    return ForgetOutcome(len(raw_ids), deleted, before, after)
