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
