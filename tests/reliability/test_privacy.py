"""Pseudonymisation, erasure (forget) and hostile values never reaching SQL as code."""

from __future__ import annotations

import hashlib
import hmac
import json

import duckdb

from conv_assets.cli import main
from conv_assets.resources import Landing
from conv_assets.sensors import scan_landing
from tests.conftest import CANONICAL_HEADER, write_csv

KEY = "s3cret-pepper-7f1c"
EVENTS = [
    "a,2024-05-06T10:00:00Z,purchase,alice.smith@example.com,,p1,c,,10,1,o1",
    "b,2024-05-06T11:00:00Z,purchase,bob.jones@example.com,,p2,c,,20,1,o2",
    "c,2024-05-07T11:00:00Z,purchase,bob.jones@example.com,,p1,c,,10,1,o3",
    "d,2024-05-08T11:00:00Z,view,carol.white@example.com,,p1,c,,10,,",
]


def user_tables(env) -> list[str]:
    return [f"{s}.{t}" for s, t in env.query(
        "SELECT DISTINCT schema_name, table_name FROM duckdb_columns() WHERE column_name = 'user_id'")]


def test_user_ids_are_pseudonymised_with_the_key_and_the_key_is_never_stored(env, capfd):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, EVENTS)
    env.set(CONV_PSEUDONYM_KEY=KEY)
    env.run()
    expected = hmac.new(KEY.encode(), b"alice.smith@example.com", hashlib.sha256).hexdigest()[:32]
    users = {r[0] for r in env.query("SELECT DISTINCT user_id FROM clean.events")}
    assert expected in users and len(users) == 3
    for table in user_tables(env):
        assert env.scalar(f"SELECT count(*) FROM {table} WHERE user_id LIKE '%@example.com'") == 0
    first = env.query("SELECT user_id, event_id FROM clean.events ORDER BY event_id")
    env.run()
    assert env.query("SELECT user_id, event_id FROM clean.events ORDER BY event_id") == first
    out = capfd.readouterr()
    assert KEY not in out.out + out.err
    blob = env.warehouse.read_bytes()
    assert KEY.encode() not in blob and b"alice.smith@example.com" not in blob


def test_hostile_values_are_data_not_sql(env, tmp_path, capsys):
    hostile_name = "x'; DROP TABLE raw.events; --.csv"
    write_csv(env.landing / hostile_name, CANONICAL_HEADER, [
        "q1,2024-05-06T10:00:00Z,view,\"o'brien\"\"; DROP TABLE clean.events; --\",,p1,c,,,,",
        "q2,2024-05-06T10:00:00Z,view,u2,,\"p'); DELETE FROM raw.events; --\",c,,,,",
    ])
    # The sensor: the file name is only ever a tag and part of the run key.
    requests, cursor, _ = scan_landing(Landing(directory=str(env.landing)), None)
    requests, cursor, _ = scan_landing(Landing(directory=str(env.landing)), cursor)
    assert requests[0].tags["conv/landed_file"] == hostile_name
    env.run()
    assert env.query("SELECT DISTINCT source_file FROM clean.events") == [(hostile_name,)]
    users = {r[0] for r in env.query("SELECT user_id FROM clean.events")}
    assert "o'brien\"; DROP TABLE clean.events; --" in users
    # The CLI: hostile ids and selections are values.
    assert main(["forget", "o'brien\"; DROP TABLE clean.events; --"]) == 0
    assert env.query("SELECT user_id FROM clean.events") == [("u2",)]
    # A selection naming no asset: a one-line error (exit 2), and no table touched.
    capsys.readouterr()
    assert main(["run", "--select", "key:\"raw/events'; DROP TABLE x; --\""]) == 2
    assert "bad --select" in capsys.readouterr().err
    # A mapping naming a hostile column: a clear error, nothing executed.
    mapping = tmp_path / "m.yaml"
    mapping.write_text(json.dumps({"columns": {
        "user_id": "u\"; DROP TABLE raw.events; --", "product_id": "product_id",
        "event_time": "event_time", "event_type": "event_type"}}))
    capsys.readouterr()
    assert main(["run", "--mapping", str(mapping)]) == 2
    assert "missing columns" in capsys.readouterr().err
    tables = {r[0] for r in env.query("SELECT table_name FROM duckdb_tables()")}
    assert {"events", "quarantine", "daily_funnel"} <= tables
    assert env.scalar("SELECT count(*) FROM raw.events") == 1  # o'brien was forgotten above


def test_warehouse_reopens_after_forget_compaction(env):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, EVENTS)
    env.run()
    assert main(["forget", "alice.smith@example.com"]) == 0
    con = duckdb.connect(str(env.warehouse))
    assert con.execute("SELECT count(*) FROM clean.events").fetchall() == [(3,)]
    # Column descriptions survive the rewrite.
    assert con.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'clean' "
                       "AND table_name = 'events' AND column_name = 'user_id'").fetchall()[0][0]
    con.close()


