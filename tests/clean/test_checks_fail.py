"""The blocking checks of clean events catch the defect they name, and stop downstream."""

from __future__ import annotations

import dagster as dg
import duckdb

from conv_assets.definitions import ASSETS, build_resources
from tests.conftest import CANONICAL_HEADER, write_csv

ROW = "{id},{day}T10:{m:02d}:00Z,view,u{u},,p1,,,,,"


def _build(day: str, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """raw and clean events plus sessions for one day (sessions must wait on blocking checks)."""
    selection = dg.AssetSelection.from_string(
        "key:raw/events or key:clean/events or key:analytics/sessions")
    return dg.materialize(ASSETS, resources=build_resources(), partition_key=day,
                          selection=selection.required_multi_asset_neighbors(),
                          raise_on_error=raise_on_error)


def _check(result: dg.ExecuteInProcessResult, name: str) -> bool:
    [ev] = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return ev.passed


def _sessions_built(result: dg.ExecuteInProcessResult) -> bool:
    return any(e.asset_key == dg.AssetKey(["analytics", "sessions"])
               for e in result.get_asset_materialization_events())


def test_a_row_lost_before_raw_fails_rows_accounted_for(env, monkeypatch):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER,
              [ROW.format(id=i, day="2024-05-06", m=i, u=i % 3) for i in range(10)])
    good = _build("2024-05-06")
    assert _check(good, "rows_accounted_for") and _sessions_built(good)
    assert env.scalar("SELECT sum(rows) FROM ops.ingested_file_days") == 10

    # The defect: a row lost between reading the file and raw.events (raw = clean + quarantine
    # still holds, so the old check would pass).
    import conv_assets.ingest.assets as ingest

    real = ingest.run_sql

    def lossy(con, name, **params):
        if name == "raw/insert_events":
            out = real(con, name, **params)
            con.execute("DELETE FROM raw.events WHERE source_row = 1")
            return out
        return real(con, name, **params)

    monkeypatch.setattr(ingest, "run_sql", lossy)
    bad = _build("2024-05-06", raise_on_error=False)
    assert not bad.success
    assert not _check(bad, "rows_accounted_for")
    assert not _sessions_built(bad)
    assert env.scalar("SELECT count(*) FROM clean.events") == 9


def test_an_event_id_repeated_on_another_day_fails_unique_event_ids(env):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER,
              [ROW.format(id=i, day="2024-05-06", m=i, u=1) for i in range(3)])
    assert _check(_build("2024-05-06"), "unique_event_ids")
    # The next day's export repeats id 2: within that day alone every id is unique.
    write_csv(env.landing / "b.csv", CANONICAL_HEADER,
              [ROW.format(id=i, day="2024-05-07", m=i, u=2) for i in (2, 7)])
    bad = _build("2024-05-07", raise_on_error=False)
    assert not bad.success
    assert not _check(bad, "unique_event_ids")
    assert not _sessions_built(bad)
    con = duckdb.connect(str(env.warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM clean.events WHERE event_id = '2'").fetchone()[0] == 2
    con.close()
