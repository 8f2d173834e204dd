"""analytics.user_lifecycle and analytics.channel_attribution: hand-computed on small shops,
and on the real samples against figures computed here in plain Python."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import published, write_csv

HEADER = "event_time,event_type,user_id,product_id,price,quantity,order_id,session_id,utm_source,utm_medium,referrer"
SELECT = "key:raw/events or key:clean/events or key:analytics/user_lifecycle or key:analytics/channel_attribution"


def lifecycle_by_hand(user_weeks: set[tuple[str, date]]) -> dict[date, tuple[int, int, int, int, int]]:
    """week -> (active, new, returning, resurrecting, dormant), from (user, Monday) pairs."""
    weeks_of = defaultdict(set)
    for u, w in user_weeks:
        weeks_of[u].add(w)
    first, last = min(w for _, w in user_weeks), max(w for _, w in user_weeks)
    out = {}
    w = first
    while w <= last:
        prev = w - timedelta(days=7)
        active = {u for u, ws in weeks_of.items() if w in ws}
        new = {u for u in active if min(weeks_of[u]) == w}
        returning = {u for u in active - new if prev in weeks_of[u]}
        resurrecting = active - new - returning
        dormant = {u for u, ws in weeks_of.items() if prev in ws and w not in ws}
        out[w] = (len(active), len(new), len(returning), len(resurrecting), len(dormant))
        w += timedelta(days=7)
    return out


def test_lifecycle_of_a_small_shop(env):
    # Mondays: 2026-10-05, 12, 19, 26. a: weeks 1, 2, 4; b: week 1; c: weeks 2, 3 (a purchase in 3)
    write_csv(env.landing / "e.csv", HEADER, [
        "2026-10-05 10:00:00,view,a,p,,,,,,,", "2026-10-11 23:00:00,view,b,p,,,,,,,",
        "2026-10-12 09:00:00,view,a,p,,,,,,,", "2026-10-14 09:00:00,view,c,p,,,,,,,",
        "2026-10-20 09:00:00,purchase,c,p,5,1,o1,,,,", "2026-10-29 09:00:00,view,a,p,,,,,,,",
    ])
    env.run(SELECT)
    got = env.query("SELECT week, active_users, new_users, returning_users, resurrecting_users, "
                    "dormant_users, quick_ratio, complete_week FROM analytics.user_lifecycle "
                    "WHERE activity = 'any' ORDER BY week")
    d = date.fromisoformat
    assert got == [
        (d("2026-10-05"), 2, 2, 0, 0, 0, None, True),
        (d("2026-10-12"), 2, 1, 1, 0, 1, 1.0, True),    # c new, a returns; b dormant
        (d("2026-10-19"), 1, 0, 1, 0, 1, 0.0, True),    # c returns; a dormant
        (d("2026-10-26"), 1, 0, 0, 1, 1, 1.0, False),   # a resurrects; c dormant; data ends Thursday
    ]
    assert env.query("SELECT week, active_users, new_users FROM analytics.user_lifecycle "
                     "WHERE activity = 'purchase'") == [(d("2026-10-19"), 1, 1)]


def test_lifecycle_on_uci_matches_a_count_by_hand(uci):
    pairs = {(u, w) for u, w in uci.query(
        "SELECT DISTINCT user_id, CAST(date_trunc('week', event_date) AS DATE) FROM clean.events")}
    want = lifecycle_by_hand(pairs)
    got = {w: tuple(r) for w, *r in uci.query(
        "SELECT week, active_users, new_users, returning_users, resurrecting_users, dormant_users "
        "FROM analytics.user_lifecycle WHERE activity = 'any'")}
    assert got == want
    assert len(got) == 54  # 2010-11-29 .. 2011-12-05


def test_attribution_models_by_hand(env, tmp_path):
    # u1: three sessions before order A: google/cpc (day 1), newsletter/email (day 10), a
    # referral (day 20, the order's own session). u2: one direct session, order B.
    # u3: a session 40 days before order C (outside the 30-day lookback) and the order's own,
    # which only has a referrer (https://www.Blog.example/x -> (referral) www.blog.example).
    write_csv(env.landing / "e.csv", HEADER, [
        "2026-09-01 10:00:00,view,u1,p,,,,s1,Google,CPC,",
        "2026-09-10 10:00:00,view,u1,p,,,,s2,newsletter,email,",
        "2026-09-20 10:00:00,view,u1,p,,,,s3,,,https://friend.example/post",
        "2026-09-20 10:05:00,purchase,u1,p,10,3,A,s3,,,",
        "2026-09-20 11:00:00,purchase,u2,p,50,1,B,s4,,,",
        "2026-08-01 10:00:00,view,u3,p,,,,s5,google,cpc,",
        "2026-09-10 10:00:00,purchase,u3,p,20,1,C,s6,,,https://www.Blog.example/x",
    ])
    write_csv(env.landing / "marketing_spend.csv", "date,channel,spend", [
        "2026-09-20,google / cpc,15", "2026-09-20,(direct),0", "2026-09-21,newsletter / email,4",
        "2026-09-22,google / cpc,-3", "bad-date,google / cpc,1",
    ])
    env.home = tmp_path / "dagster_home"
    env.home.mkdir()
    env.set(DAGSTER_HOME=str(env.home))
    env.run(SELECT)
    rows = {(m, str(d), c): (o, None if r is None else float(r), None if s is None else float(s))
            for m, d, c, o, r, s in env.query(
                "SELECT model, order_date, channel, attributed_orders, attributed_revenue, spend "
                "FROM analytics.channel_attribution")}
    a, b, c = "2026-09-20", "2026-09-20", "2026-09-10"
    g, n, f, blog, direct = ("google / cpc", "newsletter / email", "(referral) friend.example",
                             "(referral) www.blog.example", "(direct)")
    # order A = 30, B = 50, C = 20
    want = {
        ("first_touch", a, g): (1.0, 30.0, 15.0), ("first_touch", b, direct): (1.0, 50.0, 0.0),
        ("first_touch", c, blog): (1.0, 20.0, None),
        ("last_touch", a, f): (1.0, 30.0, None), ("last_touch", b, direct): (1.0, 50.0, 0.0),
        ("last_touch", c, blog): (1.0, 20.0, None),
        ("linear", a, g): (pytest.approx(1 / 3), pytest.approx(10.0), 15.0),
        ("linear", a, n): (pytest.approx(1 / 3), pytest.approx(10.0), None),
        ("linear", a, f): (pytest.approx(1 / 3), pytest.approx(10.0), None),
        ("linear", b, direct): (1.0, 50.0, 0.0), ("linear", c, blog): (1.0, 20.0, None),
        ("position_based", a, g): (pytest.approx(0.4), pytest.approx(12.0), 15.0),
        ("position_based", a, n): (pytest.approx(0.2), pytest.approx(6.0), None),
        ("position_based", a, f): (pytest.approx(0.4), pytest.approx(12.0), None),
        ("position_based", b, direct): (1.0, 50.0, 0.0), ("position_based", c, blog): (1.0, 20.0, None),
    }
    # spend of a day and channel without orders: a row with 0 orders, for every model
    for m in ("first_touch", "last_touch", "linear", "position_based"):
        want[(m, "2026-09-20", g)] = want.get((m, "2026-09-20", g), (0.0, None, 15.0))
        want[(m, "2026-09-21", n)] = (0.0, None, 4.0)
    assert rows == want
    cpo, roas = env.query("SELECT cost_per_order, roas FROM analytics.channel_attribution "
                          "WHERE model = 'position_based' AND channel = $g AND order_date = $a",
                          {"g": g, "a": a})[0]
    assert (cpo, roas) == (pytest.approx(15 / 0.4), pytest.approx(12 / 15))
    meta = published(env, "analytics/channel_attribution")
    assert "bad-date" in meta["spend_rows_rejected"] and "-3" in meta["spend_rows_rejected"]
    # the credits_add_up check's figures: 3 orders, 100 of revenue, per model
    checked = env.query("SELECT orders, credited_orders, revenue, credited_revenue FROM ("
                        + (Path(__file__).parents[2] / "sql/analytics/check_channel_attribution.sql")
                        .read_text().split(";")[0] + ")")
    assert [(o, round(c, 9), float(r), round(float(cr), 4)) for o, c, r, cr in checked] == [
        (3, 3.0, 100.0, 100.0)] * 4
    # the spend file is not read as events
    assert env.scalar("SELECT count(*) FROM raw.events WHERE source_file LIKE 'marketing_spend%'") == 0


def test_attribution_credits_add_up_on_uci(uci):
    meta = published(uci, "analytics/channel_attribution")
    assert "attribution_chart" in meta
    orders, revenue = uci.query("""
        SELECT count(*), sum(r) FROM (
            SELECT sum(price * quantity) AS r FROM clean.events WHERE event_type = 'purchase'
            GROUP BY user_id, coalesce(order_id, session_id))""")[0]
    for model, o, r in uci.query("SELECT model, sum(attributed_orders), sum(attributed_revenue) "
                                 "FROM analytics.channel_attribution GROUP BY 1"):
        assert o == pytest.approx(orders), model
        assert float(r) == pytest.approx(float(revenue), abs=0.05), model
    # UCI has no marketing context: every order is direct
    assert uci.query("SELECT DISTINCT channel FROM analytics.channel_attribution") == [("(direct)",)]
