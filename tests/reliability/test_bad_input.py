"""Faults and bad input: nothing lost, nothing doubled (issue scenarios 1-6 and 10)."""

from __future__ import annotations

import os
import shutil
from datetime import date

import pytest

from conv_assets.pipeline import PipelineError
from tests.conftest import CANONICAL_HEADER, write_csv

COUNTS = ("SELECT (SELECT count(*) FROM raw.events), (SELECT count(*) FROM clean.events), "
          "(SELECT count(*) FROM clean.quarantine)")


def rows(day: str, n: int, user: str = "u", prefix: str = "e") -> list[str]:
    return [f"{prefix}{i},{day}T1{i % 10}:00:00Z,purchase,{user}{i % 3},,p{i % 4},c,,2.5,1,o{prefix}{i}"
            for i in range(n)]


def test_same_file_twice_and_same_content_under_a_new_name(env):
    a = write_csv(env.landing / "a.csv", CANONICAL_HEADER, rows("2024-05-06", 6))
    env.run()
    first = env.query(COUNTS)
    env.run()
    shutil.copy(a, env.landing / "copy-of-a.csv")
    env.run()
    assert env.query(COUNTS) == first == [(6, 6, 0)]
    assert env.query("SELECT path, status, duplicate_of FROM ops.ingested_files ORDER BY 1") == [
        ("a.csv", "loaded", None), ("copy-of-a.csv", "duplicate", "a.csv")]


def test_replaced_file_replaces_its_days(env):
    a = write_csv(env.landing / "a.csv", CANONICAL_HEADER, rows("2024-05-06", 4) + rows("2024-05-07", 4, prefix="f"))
    env.run()
    write_csv(a, CANONICAL_HEADER, rows("2024-05-07", 3, prefix="g"))  # 05-06 is gone, 05-07 changed
    env.run()
    assert env.query("SELECT event_date::VARCHAR, count(*) FROM raw.events GROUP BY 1") == [("2024-05-07", 3)]
    assert env.query("SELECT sum(orders), sum(revenue) FROM analytics.daily_funnel WHERE category = '(all)'") == [
        (3, 7.5)]


def test_bad_files_go_to_quarantine_and_block_downstream(env):
    write_csv(env.landing / "good.csv", CANONICAL_HEADER, rows("2024-05-06", 5))
    write_csv(env.landing / "extra.csv", CANONICAL_HEADER + ",loyalty_tier,utm",
              [r + ",gold,spring" for r in rows("2024-05-06", 2, prefix="x")])
    (env.landing / "truncated.csv").write_text(
        CANONICAL_HEADER + "\n" + rows("2024-05-06", 1, prefix="t")[0] + "\nt9,2024-05-06T12:0")
    (env.landing / "latin1.csv").write_bytes(
        (CANONICAL_HEADER + "\nl1,2024-05-06T10:00:00Z,view,Jos\xe9,,p1,,,,,\n").encode("latin-1"))
    write_csv(env.landing / "comma.csv", CANONICAL_HEADER,
              ['k1,2024-05-06T10:00:00Z,purchase,u1,,p1,,,"1,99",1,o9'])
    write_csv(env.landing / "nouser.csv", "event_id,event_time,event_type,product_id",
              ["n1,2024-05-06T11:00:00Z,view,p1"])
    env.set(CONV_MAX_QUARANTINE_SHARE="1")
    with pytest.raises(PipelineError, match="no_rejected_files"):
        env.run()
    got = sorted(env.query("SELECT source_file, reason, count(*) FROM clean.quarantine GROUP BY ALL"))
    assert got == [("comma.csv", "bad_price", 1), ("latin1.csv", "bad_encoding", 1),
                   ("nouser.csv", "missing_column", 1), ("truncated.csv", "bad_timestamp", 1)]
    # Other files still load (extra columns are ignored) ...
    assert dict(env.query("SELECT source_file, count(*) FROM clean.events GROUP BY 1")) == {
        "good.csv": 5, "extra.csv": 2, "truncated.csv": 1}
    # ... but nothing downstream ran on top of a rejected file.
    assert env.scalar("SELECT count(*) FROM analytics.sessions") == 0
    (env.landing / "nouser.csv").unlink()
    env.run()
    assert env.scalar("SELECT count(*) FROM analytics.sessions") > 0


def test_timestamps_land_on_the_right_day_or_in_quarantine(env):
    write_csv(env.landing / "t.csv", CANONICAL_HEADER, [
        "a,2024-05-06 23:59:59.999,view,u1,,p1,,,,,",          # no zone: UTC
        "b,2024-05-07T00:00:00+00:00,view,u1,,p1,,,,,",
        "c,2024-05-07T01:30:00+02:00,view,u1,,p1,,,,,",          # 23:30 UTC on the 6th
        "d,2024-05-06T20:00:00-05:00,view,u1,,p1,,,,,",          # 01:00 UTC on the 7th
        "e,2024-05-06T12:00:00Z,view,u1,,p1,,,,,",
        "f,2099-01-01T00:00:00Z,view,u1,,p1,,,,,",               # far future
        "g,1999-12-31T23:00:00Z,view,u1,,p1,,,,,",               # before the shop existed
    ])
    env.set(CONV_START_DATE="2020-01-01", CONV_MAX_QUARANTINE_SHARE="1")
    env.run()
    assert env.query("SELECT event_id, event_date::VARCHAR FROM clean.events ORDER BY 1") == [
        ("a", "2024-05-06"), ("b", "2024-05-07"), ("c", "2024-05-06"), ("d", "2024-05-07"),
        ("e", "2024-05-06")]
    assert env.query("SELECT event_id, reason FROM clean.quarantine ORDER BY 1") == [
        ("f", "out_of_range_date"), ("g", "out_of_range_date")]


def test_repeated_order_lines_do_not_double_revenue(env):
    line = "2024-05-06T10:00:00Z,purchase,u1,p1,10,2,o1"
    write_csv(env.landing / "a.csv", "event_time,event_type,user_id,product_id,price,quantity,order_id",
              [line, line, line, "2024-05-06T10:00:00Z,purchase,u1,p2,5,1,o1"])
    env.run()
    assert env.query("SELECT orders, units, revenue FROM analytics.daily_funnel "
                     "WHERE category = '(all)' AND event_date = '2024-05-06'") == [(1, 3, 25)]


def test_late_events_within_lookback_rebuild_beyond_are_too_late(env):
    write_csv(env.landing / "may.csv", CANONICAL_HEADER,
              rows("2024-05-20", 3) + rows("2024-05-31", 3, prefix="m"))
    env.run()
    # 05-25 is within 30 days of the latest loaded day (05-31): that day is rebuilt.
    write_csv(env.landing / "late.csv", CANONICAL_HEADER, rows("2024-05-25", 2, prefix="late"))
    # 04-10 is more than 30 days before it: quarantined as too late.
    write_csv(env.landing / "ancient.csv", CANONICAL_HEADER, rows("2024-04-10", 2, prefix="old"))
    env.set(CONV_MAX_QUARANTINE_SHARE="1")
    env.run()
    assert env.query("SELECT orders FROM analytics.daily_funnel WHERE category = '(all)' "
                     "AND event_date = '2024-05-25'") == [(2,)]
    assert env.query("SELECT source_file, reason, count(*) FROM clean.quarantine GROUP BY ALL") == [
        ("ancient.csv", "too_late", 2)]
    # The limit sticks to the file: rebuilding again does not let the rows in.
    env.run()
    assert env.scalar("SELECT count(*) FROM clean.events WHERE source_file = 'ancient.csv'") == 0


def test_one_user_one_product_all_zero_sales_for_weeks(env):
    # Views only for three weeks: every sales series is all zero.
    lines = [f"v{d},2024-05-{d:02d}T10:00:00Z,view,solo,,only,,,,," for d in range(1, 22)]
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, lines)
    env.run()
    assert env.query("SELECT DISTINCT model FROM ml.sales_forecasts") == [("zero",)]
    assert env.scalar("SELECT max(upper_95) FROM ml.sales_forecasts") == 0
    # Viewed, never bought: the only product is still worth recommending.
    assert env.query("SELECT list, product_id, reason FROM ml.user_recommendations "
                     "WHERE user_id = 'solo' ORDER BY list") == [
        ("buy_again", "only", "popular"), ("discovery", "only", "popular")]


@pytest.mark.parametrize("lines", [
    ["a,2024-05-06T10:00:00Z,view,solo,,only,,,,,"],                                  # views only
    ["a,2024-05-06T10:00:00Z,purchase,solo,,only,,,3,1,o1"],                          # one sale
    ["a,2024-05-06T10:00:00Z,view,solo,,only,,,,,", "b,2024-05-06T10:01:00Z,cart,solo,,only,,,3,1,"],
])
def test_degenerate_data_still_materializes_everything(env, lines):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, lines)
    outcome = env.run()  # every asset, including models and forecasts, without raising
    assert outcome.table_rows["clean.events"] == len(lines)
    # A single day is the latest, possibly partial, day: no complete history, no forecast rows.
    assert env.scalar("SELECT count(*) FROM ml.sales_forecasts") == 0
    assert env.scalar("SELECT count(*) FROM analytics.daily_funnel WHERE event_date = $d",
                      {"d": date(2024, 5, 6)}) >= 1
    assert os.path.exists(outcome.analyst_copy)
