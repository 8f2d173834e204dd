"""Analysts read a published copy: an open connection never blocks or breaks a run."""

from __future__ import annotations

import duckdb

from tests.conftest import CANONICAL_HEADER, write_csv


def test_open_analyst_connection_survives_a_run_and_sees_whole_states(env):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, ["e1,2024-05-06T10:00:00Z,view,u1,,p1,c,,,,"])
    outcome = env.run()
    copy = outcome.analyst_copy
    analyst = duckdb.connect(copy, read_only=True)
    assert analyst.execute("SELECT count(*) FROM clean.events").fetchall() == [(1,)]
    # The views from sql/views are in the copy too.
    assert analyst.execute("SELECT category FROM analytics.funnel_28d_by_category "
                           "ORDER BY 1").fetchall() == [("(all)",), ("c",)]

    write_csv(env.landing / "b.csv", CANONICAL_HEADER, [
        "e2,2024-05-07T10:00:00Z,view,u2,,p1,c,,,,", "e3,2024-05-07T11:00:00Z,view,u3,,p1,c,,,,"])
    env.run()  # would fail with a lock error if the analyst held the live warehouse
    # The open connection keeps answering from the state it opened ...
    assert analyst.execute("SELECT count(*) FROM clean.events").fetchall() == [(1,)]
    analyst.close()
    # ... and a new one sees the new state whole.
    fresh = duckdb.connect(copy, read_only=True)
    assert fresh.execute("SELECT count(*) FROM clean.events").fetchall() == [(3,)]
    assert fresh.execute("SELECT count(*) FROM analytics.daily_funnel WHERE category = '(all)'"
                         ).fetchall() == [(2,)]
    fresh.close()


def test_analyst_copy_is_requested_at_most_once_per_tick_after_a_change():
    """The automation condition (hourly by default), evaluated at chosen times: a change waits
    for a tick not yet used, and each tick gives at most one copy; no change, no copy."""
    from datetime import UTC, datetime

    import dagster as dg

    from conv_assets.definitions import defs

    copy = dg.AssetKey(["ops", "analyst_copy"])
    dep = dg.AssetKey(["ml", "rec_evaluation"])
    instance = dg.DagsterInstance.ephemeral()
    cursor = None

    def requested(hour: int, minute: int) -> int:
        nonlocal cursor
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=cursor, asset_selection=dg.AssetSelection.assets(copy),
            evaluation_time=datetime(2024, 5, 6, hour, minute, tzinfo=UTC))
        cursor = result.cursor
        return result.get_num_requested(copy)

    assert requested(10, 30) == 0                       # nothing changed yet
    instance.report_runless_asset_event(dg.AssetMaterialization(dep))
    assert requested(10, 40) == 0                       # changed, but no tick since
    assert requested(11, 1) == 1                        # the 11:00 tick: one copy
    assert requested(11, 20) == 0                       # handled
    assert requested(12, 1) == 0                        # a tick, but nothing changed
    instance.report_runless_asset_event(dg.AssetMaterialization(dep))
    assert requested(12, 30) == 1                       # the 12:00 tick was not used yet
    assert requested(12, 31) == 0
    instance.report_runless_asset_event(dg.AssetMaterialization(dep))
    assert requested(12, 50) == 0                       # one copy per tick at most
    assert requested(13, 1) == 1
