"""Schema upgrades: a warehouse made with the previous DDL opens with the new code intact."""

from __future__ import annotations

from pathlib import Path

import duckdb

from conv_assets.resources import DDL, migrations, open_warehouse, run_sql
from tests.conftest import CANONICAL_HEADER, write_csv

V1_INGESTED_FILES = Path(__file__).with_name("schema_v1_ingested_files.sql")


def _v1_warehouse(path: Path) -> None:
    """The first release's tables: today's DDL but ops.ingested_files as it was, no version."""
    con = duckdb.connect(str(path))
    for name in DDL:
        if name not in ("ops/create_schema_version", "ops/create_ingested_files"):
            run_sql(con, name)
    con.execute(V1_INGESTED_FILES.read_text())
    con.execute("INSERT INTO ops.ingested_files VALUES ('old.csv', 'abc', 'loaded', NULL, 7, "
                "DATE '2024-05-01', DATE '2024-05-02', TIMESTAMP '2024-05-03 00:00:00', NULL, NULL)")
    con.close()


def test_previous_schema_is_migrated_with_its_data(env):
    _v1_warehouse(env.warehouse)
    assert "bytes" not in [r[0] for r in env.query("DESCRIBE ops.ingested_files")]

    open_warehouse(str(env.warehouse)).close()
    latest = max(v for v, _ in migrations())
    assert latest >= 2
    assert env.query("SELECT max(version) FROM ops.schema_version") == [(latest,)]
    assert env.query("SELECT path, sha256, rows, bytes FROM ops.ingested_files") == [
        ("old.csv", "abc", 7, None)]

    # Opening again applies nothing twice; a run writes through the named inserts.
    open_warehouse(str(env.warehouse)).close()
    assert env.scalar("SELECT count(*) FROM ops.schema_version") == latest - 1
    a = write_csv(env.landing / "a.csv", CANONICAL_HEADER, ["e1,2024-05-06T10:00:00Z,view,u1,,p1,,,,,"])
    env.run("key:raw/events or key:clean/events")
    assert env.query("SELECT path, rows, bytes FROM ops.ingested_files ORDER BY path") == [
        ("a.csv", 1, a.stat().st_size), ("old.csv", 7, None)]


def test_new_warehouse_starts_at_the_latest_version(env):
    open_warehouse(str(env.warehouse)).close()
    latest = max(v for v, _ in migrations())
    assert env.query("SELECT version, name FROM ops.schema_version") == [(latest, "created")]
