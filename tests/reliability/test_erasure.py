"""Erasure on every path: `conv-assets forget`, and CONV_ERASURE_FILE listed before or after the
data was loaded, read by a one-day run, a daily-schedule tick or a full run. Each ends with the
id in no table (quarantine included), no analyst copy, no model file, nothing Dagster kept (run
storage, event log, compute logs) and no byte of the warehouse file. The user has quarantined
rows in every case, so a path that forgets the quarantine fails."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from conv_assets.cli import main
from tests.conftest import CANONICAL_HEADER, write_csv

BOB = "bob.jones@example.com"
EVENTS = [
    "a,2024-05-06T10:00:00Z,purchase,alice.smith@example.com,,p1,c,,10,1,o1",
    "b,2024-05-06T11:00:00Z,purchase,bob.jones@example.com,,p2,c,,20,1,o2",
    "c,2024-05-07T11:00:00Z,purchase,bob.jones@example.com,,p1,c,,10,1,o3",
    "d,2024-05-08T11:00:00Z,view,carol.white@example.com,,p1,c,,10,,",
    "e,2024-05-08T12:00:00Z,view,alice.smith@example.com,,p2,c,,20,,",
    # Bob's rows that go to quarantine: an unknown event type and a price that is no number.
    "q1,2024-05-07T12:00:00Z,teleport,bob.jones@example.com,,p2,c,,20,1,",
    "q2,2024-05-08T12:30:00Z,purchase,bob.jones@example.com,,p2,c,,abc,1,o9",
]


def quarantined(env, raw_id: str) -> int:
    return env.scalar("SELECT count(*) FROM clean.quarantine WHERE user_id = $u", {"u": raw_id})


def tables_with(path: Path, raw_id: str) -> list[str]:
    """Every text column of every table (not only user_id) that holds the id."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "JOIN duckdb_tables() USING (database_name, schema_name, table_name) "
            "WHERE data_type = 'VARCHAR' AND database_name = current_database()").fetchall()
        return sorted({f"{s}.{t}" for s, t, c in cols if con.execute(
            f'SELECT count(*) FROM "{s}"."{t}" WHERE contains("{c}", $u)', {"u": raw_id}
        ).fetchall()[0][0]})
    finally:
        con.close()


def files_with(roots: list[Path], raw_id: str, skip: Path) -> list[str]:
    """Every file under `roots` (outside `skip`: the landing directory, and the erasure
    requests beside it, which are the operator's) holding the id's bytes;
    Parquet files (compressed pages) are read and their text columns searched."""
    found = []
    for root in roots:
        for p in sorted(root.rglob("*")):
            if not p.is_file() or skip in p.parents or skip.parent / "requests" in p.parents:
                continue
            if p.suffix == ".parquet":
                texts = pl.read_parquet(p).select(pl.col(pl.String))
                hit = any(texts[c].str.contains(raw_id, literal=True).any() for c in texts.columns)
            else:
                hit = raw_id.encode() in p.read_bytes()
            if hit:
                found.append(p.name)
    return found


@pytest.fixture
def home(env, tmp_path) -> Path:
    h = tmp_path / "dagster_home"
    h.mkdir()
    env.set(DAGSTER_HOME=str(h))
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, EVENTS)
    return h


def loaded(env, home) -> None:
    """A full run; the id is then in the tables, the files and the model (so each search below
    can find it: the test fails if its search is blind)."""
    env.run()
    assert quarantined(env, BOB) == 2
    assert "clean.quarantine" in tables_with(env.warehouse, BOB)
    assert {"wh.duckdb", "analyst.duckdb", "als_ids.parquet"} <= set(
        files_with([home, env.warehouse.parent], BOB, env.landing))


def assert_gone(env, home, raw_id: str = BOB) -> None:
    assert tables_with(env.warehouse, raw_id) == []
    assert files_with([home, env.warehouse.parent], raw_id, env.landing) == []
    # What the others did is kept: Alice's two purchases... of which one order, and Carol's view.
    assert env.scalar("SELECT count(DISTINCT user_id) FROM clean.events") == 2
    assert env.scalar("SELECT count(*) FROM ops.erasures") == 1
    assert env.query("SELECT user_hash FROM ops.erasures") == [
        (hashlib.sha256(raw_id.encode()).hexdigest(),)]


def erasure_file(env, tmp_path, *ids: str) -> Path:
    path = tmp_path / "requests" / "erasure.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text("# one id per line\n" + "".join(f"{i}\n" for i in ids))
    env.set(CONV_ERASURE_FILE=str(path))
    return path


def ingest_one_day(env, home, day: str, tags: dict | None = None) -> None:
    """raw and clean events for one day, recorded in DAGSTER_HOME's instance, as the daemon's
    ingest_job run would be."""
    from conv_assets.definitions import ASSETS, build_resources
    from conv_assets.jobs import CLEAN, RAW

    instance = dg.DagsterInstance.get()
    result = dg.materialize(
        ASSETS, resources=build_resources(), instance=instance,
        selection=dg.AssetSelection.assets(RAW, *CLEAN),
        tags=tags or {"dagster/asset_partition_range_start": day,
                      "dagster/asset_partition_range_end": day})
    assert result.success


def test_forget_erases_everywhere_quarantine_included(env, home, capsys):
    loaded(env, home)
    assert env.scalar("SELECT sum(orders) FROM analytics.daily_funnel WHERE category = '(all)'") == 3
    assert main(["forget", BOB]) == 0
    assert "erased 1 user" in capsys.readouterr().out
    assert_gone(env, home)
    # Aggregates he was part of are recomputed.
    assert env.scalar("SELECT sum(orders) FROM analytics.daily_funnel WHERE category = '(all)'") == 1
    assert env.scalar("SELECT count(*) FROM analytics.customer_value") == 1
    # A later reload of the same files does not bring him back, quarantine included.
    env.run()
    assert_gone(env, home)


def test_erasure_file_listed_before_loading_keeps_the_user_out_of_a_full_run(env, home, tmp_path):
    erasure_file(env, tmp_path, BOB)
    env.run()
    assert quarantined(env, BOB) == 0
    assert_gone(env, home)
    # Three clean events of Alice and Carol, nothing else counted.
    assert env.scalar("SELECT count(*) FROM clean.events") == 3
    assert env.scalar("SELECT sum(rows) FROM ops.ingested_file_days") == 3


def test_erasure_file_listed_after_loading_then_a_one_day_run(env, home, tmp_path):
    loaded(env, home)
    erasure_file(env, tmp_path, BOB)
    # A one-day run of a day Bob has no raw row in: his rows on the other days go too.
    ingest_one_day(env, home, "2024-05-06")
    assert_gone(env, home)
    # The rows read from the file still add up: the blocking check would stop the next run.
    assert env.scalar("SELECT sum(rows) FROM ops.ingested_file_days") == 3
    ingest_one_day(env, home, "2024-05-07")
    assert_gone(env, home)


def test_erasure_file_listed_after_loading_then_the_daily_schedule_tick(env, home, tmp_path):
    from conv_assets.schedules import daily_schedule

    loaded(env, home)
    erasure_file(env, tmp_path, BOB)
    ctx = dg.build_schedule_context(
        scheduled_execution_time=datetime(2024, 5, 9, 1, tzinfo=UTC))
    request = daily_schedule(ctx)
    assert request.tags["dagster/asset_partition_range_start"] == "2024-05-08"
    ingest_one_day(env, home, "", tags=request.tags)
    assert_gone(env, home)


def test_erasure_file_listed_after_loading_then_a_full_run(env, home, tmp_path):
    loaded(env, home)
    erasure_file(env, tmp_path, BOB)
    env.run()
    assert_gone(env, home)
    assert env.scalar("SELECT sum(orders) FROM analytics.daily_funnel WHERE category = '(all)'") == 1


def test_erasure_of_a_pseudonymised_user_removes_the_pseudonym(env, home, tmp_path):
    """With CONV_PSEUDONYM_KEY the warehouse holds the HMAC, never the raw id: that is what
    must go."""
    import hmac

    key = "pepper-9"
    env.set(CONV_PSEUDONYM_KEY=key)
    env.run()
    stored = hmac.new(key.encode(), BOB.encode(), hashlib.sha256).hexdigest()[:32]
    assert tables_with(env.warehouse, BOB) == [] and "clean.quarantine" in tables_with(
        env.warehouse, stored)
    erasure_file(env, tmp_path, BOB)
    ingest_one_day(env, home, "2024-05-06")
    assert tables_with(env.warehouse, stored) == []
    assert files_with([home, env.warehouse.parent], stored, env.landing) == []
