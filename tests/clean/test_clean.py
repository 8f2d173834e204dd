"""Cleaning: every quarantine reason, deduplication, the day boundary, sessions over midnight."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from conv_assets.generate import DIRTY_KINDS, generate
from conv_assets.pipeline import PipelineError
from tests.conftest import CANONICAL_HEADER, materialize_days, write_csv


def test_generated_dirt_lands_in_quarantine_with_its_reason(env):
    generate(env.landing, days=3, users=50, events_per_day=300, seed=3, start=date(2024, 5, 6),
             dirty_per_kind=2)
    env.run()
    reasons = dict(env.query("SELECT reason, count(*) FROM clean.quarantine GROUP BY 1"))
    # The generator injects 2 rows of each kind per day, and nothing else is wrong.
    assert reasons == {kind: 6 for kind in DIRTY_KINDS}
    raw = env.scalar("SELECT count(*) FROM raw.events")
    assert env.scalar("SELECT count(*) FROM clean.events") == raw - 6 * len(DIRTY_KINDS)


def test_file_level_problems_are_quarantined_and_other_files_load(env):
    write_csv(env.landing / "good.csv", CANONICAL_HEADER,
              ["e1,2024-05-06T10:00:00Z,view,u1,,p1,,,,,"])
    # No user_id column at all.
    write_csv(env.landing / "nouser.csv", "event_id,event_time,event_type,product_id",
              ["e2,2024-05-06T11:00:00Z,view,p1", "e3,2024-05-06T11:05:00Z,view,p2"])
    # Latin-1 bytes in a UTF-8 file.
    (env.landing / "latin1.csv").write_bytes(
        (CANONICAL_HEADER + "\ne4,2024-05-06T12:00:00Z,view,u\xe9,,p1,,,,,\n").encode("latin-1"))
    # Values the clean layer must refuse.
    write_csv(env.landing / "values.csv", CANONICAL_HEADER, [
        "e5,2024-05-06T13:00:00Z,purchase,u1,,p1,,,\"1,99\",1,o1",
        "e6,2024-05-06T13:00:00Z,purchase,u1,,p1,,,,1,o2",
        "e7,2024-05-06T13:00:00Z,view,u1,,,,,,,",
        "e8,2024-05-06T13:00:00Z,purchase,u1,,p1,,,5,0.5,o3",
        "e9,2099-05-06T13:00:00Z,view,u1,,p1,,,,,",
        "e10,yesterday,view,u1,,p1,,,,,",
    ])
    # 9 of 10 rows are bad: with the default threshold (0.5) the blocking check stops the run;
    # nouser.csv lacks a required column, which stops it whatever the threshold.
    with pytest.raises(PipelineError, match="quarantine_share_below_threshold"):
        env.run()
    env.set(CONV_MAX_QUARANTINE_SHARE="1")
    with pytest.raises(PipelineError, match="no_rejected_files"):
        env.run()
    got = sorted(env.query("SELECT source_file, reason, count(*) FROM clean.quarantine GROUP BY ALL"))
    assert got == [
        ("latin1.csv", "bad_encoding", 1),
        ("nouser.csv", "missing_column", 2),
        ("values.csv", "bad_price", 2),
        ("values.csv", "bad_quantity", 1),
        ("values.csv", "bad_timestamp", 1),
        ("values.csv", "missing_product", 1),
        ("values.csv", "out_of_range_date", 1),
    ]
    assert env.query("SELECT event_id FROM clean.events") == [("e1",)]
    assert env.scalar("SELECT error FROM ops.ingested_files WHERE path = 'nouser.csv'").startswith(
        "missing columns ['user_id']")


def test_duplicates_and_repeated_order_lines_are_kept_once(env):
    rows = ["e1,2024-05-06T10:00:00Z,purchase,u1,,p1,,,10,2,o1"] * 3
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, rows)
    # The same order lines without ids (content hash) in another file.
    write_csv(env.landing / "b.csv", "event_time,event_type,user_id,product_id,price,quantity,order_id",
              ["2024-05-06T11:00:00Z,purchase,u2,p1,10,1,o2"] * 2)
    env.run()
    assert env.query("SELECT order_id, sum(price * quantity) FROM clean.events GROUP BY 1 ORDER BY 1") == [
        ("o1", 20), ("o2", 10)]
    assert env.scalar("SELECT count(*) FROM clean.quarantine WHERE reason = 'duplicate'") == 3


def test_rebuilding_a_day_replaces_exactly_that_day(env):
    write_csv(env.landing / "edge.csv", CANONICAL_HEADER, [
        "a,2024-05-06T23:59:59.999Z,view,u1,,p1,,,,,",
        "b,2024-05-07T00:00:00.000Z,view,u1,,p1,,,,,",
        "c,2024-05-07T12:00:00.000Z,view,u2,,p1,,,,,",
    ])
    env.run()
    by_day = "SELECT event_date::VARCHAR, list(event_id ORDER BY event_id) FROM {} GROUP BY 1 ORDER BY 1"
    expected = [("2024-05-06", ["a"]), ("2024-05-07", ["b", "c"])]
    assert env.query(by_day.format("raw.events")) == expected
    assert env.query(by_day.format("clean.events")) == expected
    for day in ("2024-05-06", "2024-05-07", "2024-05-06"):
        assert materialize_days(day).success
        assert env.query(by_day.format("raw.events")) == expected
        assert env.query(by_day.format("clean.events")) == expected


@pytest.mark.parametrize("batch_rows", ["1000000", "1"])
def test_session_over_midnight_is_one_session_however_days_are_built(env, monkeypatch, batch_rows):
    # "1": every day is a batch of its own in clean, sessions and funnel (CONV_BATCH_ROWS).
    monkeypatch.setenv("CONV_BATCH_ROWS", batch_rows)
    write_csv(env.landing / "s.csv", CANONICAL_HEADER, [
        "a,2024-05-06T23:50:00Z,view,u1,,p1,,,,,",
        "b,2024-05-07T00:10:00Z,view,u1,,p2,,,,,",
        "c,2024-05-07T00:50:00Z,view,u1,,p3,,,,,",   # 40 minutes later: a new session
    ])
    sessions = "SELECT event_id, session_id FROM clean.events ORDER BY event_id"
    env.run()
    together = dict(env.query(sessions))
    assert together["a"] == together["b"] != together["c"]
    # One row per session, on the day it started: a+b on the 6th, c on the 7th.
    assert env.query("SELECT session_date, session_id, events FROM analytics.sessions "
                     "ORDER BY session_date") == [(date(2024, 5, 6), together["a"], 2),
                                                  (date(2024, 5, 7), together["c"], 1)]
    assert materialize_days("2024-05-07").success
    assert materialize_days("2024-05-06").success
    assert dict(env.query(sessions)) == together


def test_checkout_steps_and_marketing_context_are_typed_and_kept(env):
    header = CANONICAL_HEADER + ",utm_source,utm_medium,utm_campaign,referrer,device,country,coupon,discount"
    write_csv(env.landing / "ctx.csv", header, [
        "e1,2024-05-06T10:00:00Z,view,u1,s1,p1,,,9.5,1,,google,cpc,spring,https://www.google.com/,mobile,DE,,",
        "e2,2024-05-06T10:01:00Z,begin_checkout,u1,s1,p1,,,9.5,1,,google,cpc,spring,,mobile,DE,,",
        "e3,2024-05-06T10:02:00Z,add_shipping_info,u1,s1,p1,,,9.5,1,,,,,,mobile,DE,,",
        "e4,2024-05-06T10:03:00Z,Add_Payment_Info,u1,s1,p1,,,9.5,1,,,,,,mobile,DE,,",
        "e5,2024-05-06T10:04:00Z,purchase,u1,s1,p1,,,9.5,1,o1,,,,,mobile,DE,SPRING10, 0.95 ",
        # A discount that is not a non-negative number: quarantined with its reason.
        "e6,2024-05-06T10:05:00Z,purchase,u2,s2,p1,,,9.5,1,o2,,,,,desktop,FR,X,-1",
        "e7,2024-05-06T10:06:00Z,purchase,u3,s3,p1,,,9.5,1,o3,,,,,desktop,FR,X,ten",
    ])
    env.run(select="key:raw/events or key:clean/events")
    assert env.query(
        "SELECT event_id, event_type, utm_source, utm_medium, utm_campaign, referrer, device, "
        "country, coupon, discount FROM clean.events ORDER BY 1") == [
        ("e1", "view", "google", "cpc", "spring", "https://www.google.com/", "mobile", "DE", None, None),
        ("e2", "begin_checkout", "google", "cpc", "spring", None, "mobile", "DE", None, None),
        ("e3", "add_shipping_info", None, None, None, None, "mobile", "DE", None, None),
        ("e4", "add_payment_info", None, None, None, None, "mobile", "DE", None, None),
        ("e5", "purchase", None, None, None, None, "mobile", "DE", "SPRING10", Decimal("0.9500")),
    ]
    assert env.query("SELECT event_id, reason, discount, country FROM clean.quarantine ORDER BY 1") == [
        ("e6", "bad_discount", "-1", "FR"), ("e7", "bad_discount", "ten", "FR")]
