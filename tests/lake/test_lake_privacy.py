"""Erasure on a lake: `conv-assets forget`, and an id listed in CONV_ERASURE_FILE after loading,
leave the id in no table (quarantine included), no Parquet file under the data path, nothing in
the PostgreSQL catalog (inlined rows), no model file, and no snapshot to travel back to."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import CANONICAL_HEADER, write_csv
from tests.lake.test_lake import clean_env
from tests.reliability.test_erasure import EVENTS, files_with

BIN = Path(sys.executable).parent
BOB = "bob.jones@example.com"


def _catalog_dump(attach: str) -> bytes:
    conninfo = attach.removeprefix("ducklake:postgres:")
    pg_dump = shutil.which("pg_dump") or sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))[-1]
    return subprocess.run([str(pg_dump), conninfo], capture_output=True, check=True).stdout


def _in_parquet(lake) -> int:
    files = [str(p) for p in Path(lake.data_path).rglob("*.parquet")]
    return lake.query(
        "SELECT count(*) FROM read_parquet($f, union_by_name = true) WHERE user_id = $u",
        {"f": files, "u": BOB})[0][0]


def _loaded(lake, tmp_path) -> dict:
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "a.csv", CANONICAL_HEADER, EVENTS)
    env = clean_env(**lake.env, CONV_LANDING_DIR=str(landing), CONV_WAREHOUSE=str(tmp_path / "wh.duckdb"))
    run = subprocess.run([str(BIN / "conv-assets"), "run"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert lake.query("SELECT count(*) FROM clean.quarantine WHERE user_id = $u", {"u": BOB}) == [(2,)]
    # Small writes are inlined into the catalog; the second run writes the same again.
    assert BOB.encode() in _catalog_dump(lake.attach)
    # Materialise the rows as Parquet too, so both places are tested.
    lake.connect(read_only=False).execute("CALL ducklake_flush_inlined_data('lake')").fetchall()
    assert _in_parquet(lake) > 0
    assert files_with([tmp_path / "models"], BOB, landing) == ["als_ids.parquet"]
    return env


def _assert_gone(lake, tmp_path, versions_before: int, rebuilt: bool = True) -> None:
    tables = lake.query("SELECT DISTINCT schema_name, table_name FROM duckdb_columns() "
                        "WHERE column_name = 'user_id' AND database_name = 'lake'")
    assert len(tables) >= 5
    for schema, table in tables:
        assert lake.query(f'SELECT count(*) FROM "{schema}"."{table}" WHERE user_id = $u',
                          {"u": BOB}) == [(0,)], table
    if rebuilt:  # the funnel has no user id; forget rebuilds it, an ingest-only run does not
        assert lake.query("SELECT sum(orders) FROM analytics.daily_funnel "
                          "WHERE category = '(all)'") == [(1,)]
    assert _in_parquet(lake) == 0
    assert BOB.encode() not in _catalog_dump(lake.attach)
    assert files_with([tmp_path], BOB, tmp_path / "landing") == []
    # Only the latest snapshot is left: time travel to before the erasure is gone.
    snapshots = lake.query("SELECT snapshot_id FROM ducklake_snapshots('lake')")
    assert len(snapshots) == 1 and snapshots[0][0] > versions_before


def test_forget_on_a_lake_leaves_no_trace(lake, tmp_path):
    env = _loaded(lake, tmp_path)
    versions_before = lake.query("SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")[0][0]
    done = subprocess.run([str(BIN / "conv-assets"), "forget", BOB], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "erased 1 user" in done.stdout
    _assert_gone(lake, tmp_path, versions_before)


def test_erasure_file_after_loading_on_a_lake_leaves_no_trace(lake, tmp_path):
    env = _loaded(lake, tmp_path)
    versions_before = lake.query("SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")[0][0]
    requests = tmp_path / "requests" / "erasure.txt"
    requests.parent.mkdir()
    requests.write_text(BOB + "\n")
    env["CONV_ERASURE_FILE"] = str(requests)
    # Only the ingest step, for the whole range: the erasure cannot wait for the models.
    done = subprocess.run([str(BIN / "conv-assets"), "run", "--select", "key:raw/events"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    _assert_gone(lake, tmp_path, versions_before, rebuilt=False)
