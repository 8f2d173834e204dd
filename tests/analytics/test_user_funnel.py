"""analytics.user_funnel and analytics.funnel_time_to_convert: by hand on a small shop, and on
UCI and generated data against an independent SQL over clean events."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from conv_assets.funnels import FunnelError, load_funnels
from tests.conftest import write_csv

HEADER = "event_time,event_type,user_id,product_id,category,session_id,utm_source,utm_medium,device,price"


def priced(rows: list[str]) -> list[str]:
    """Purchases need a price in a source that has prices."""
    return [r + (",5" if ",purchase," in r else ",") for r in rows]
SELECT = "key:raw/events or key:clean/events or key:analytics/user_funnel or key:analytics/funnel_time_to_convert"


def test_user_funnel_across_sessions_by_hand(env):
    write_csv(env.landing / "e.csv", HEADER, priced([
        # a: view (day 1, via google/cpc, mobile), cart 2 days later in another session,
        # purchase 3 h after: converts across sessions
        "2026-10-05 10:00:00,view,a,p,tea,s1,google,cpc,mobile",
        "2026-10-07 10:00:00,cart,a,p,tea,s2,,,mobile",
        "2026-10-07 13:00:00,purchase,a,p,tea,s2,,,mobile",
        # b: view, then purchase without a cart (strict: stops at view), and a cart 8 days
        # later (outside the 7-day window)
        "2026-10-05 11:00:00,view,b,q,cups,s3,,,desktop",
        "2026-10-05 11:30:00,purchase,b,q,cups,s3,,,desktop",
        "2026-10-13 12:00:00,cart,b,q,cups,s4,,,desktop",
        # c: cart before the view does not count in strict order; view then cart 30 min later
        "2026-10-05 09:00:00,cart,c,p,tea,s5,,,mobile",
        "2026-10-05 09:10:00,view,c,p,tea,s5,,,mobile",
        "2026-10-05 09:40:00,cart,c,p,tea,s5,,,mobile",
        # d: a view on day 2 only: enters on 2026-10-06, a new user (no event before)
        "2026-10-06 09:00:00,view,d,p,tea,s6,,,",
    ]))
    env.run(SELECT)
    rows = env.query(
        "SELECT step, step_name, entered, converted, drop_off, conversion_rate, rate_from_start, "
        "p50_hours_to_next FROM analytics.user_funnel WHERE funnel = 'purchase' "
        "AND entry_date = '2026-10-05' AND breakdown = 'all' ORDER BY step")
    assert rows == [
        (1, "view", 3, 2, 1, pytest.approx(2 / 3), 1.0, pytest.approx((48 + 0.5) / 2)),
        (2, "cart", 2, 1, 1, 0.5, pytest.approx(2 / 3), pytest.approx(3.0)),
        (3, "purchase", 1, None, None, None, pytest.approx(1 / 3), None),
    ]
    by_channel = env.query(
        "SELECT breakdown_value, step, entered FROM analytics.user_funnel WHERE funnel = 'purchase' "
        "AND entry_date = '2026-10-05' AND breakdown = 'channel' ORDER BY 1, 2")
    assert by_channel == [("(direct)", 1, 2), ("(direct)", 2, 1), ("google / cpc", 1, 1),
                          ("google / cpc", 2, 1), ("google / cpc", 3, 1)]
    assert env.query("SELECT breakdown_value, entered FROM analytics.user_funnel WHERE "
                     "breakdown = 'device' AND step = 1 AND entry_date = '2026-10-05' ORDER BY 1") == [
        ("desktop", 1), ("mobile", 2)]
    assert env.query("SELECT entry_date, breakdown_value, entered FROM analytics.user_funnel WHERE "
                     "breakdown = 'user_type' AND step = 1 ORDER BY 1") == [
        (date(2026, 10, 5), "new", 3), (date(2026, 10, 6), "new", 1)]
    # no checkout events: no checkout rows
    assert env.scalar("SELECT count(*) FROM analytics.user_funnel WHERE funnel = 'checkout'") == 0
    # time to convert: view->cart: a 48 h (1-3 d), c 30 min (10-60 min); cart->purchase 3 h;
    # view->purchase (1 -> 3): a 51 h
    assert env.query("SELECT from_step, to_step, bucket, users FROM analytics.funnel_time_to_convert "
                     "WHERE entry_date = '2026-10-05' ORDER BY 1, 2, bucket_order") == [
        (1, 2, "10-60 min", 1), (1, 2, "1-3 d", 1), (1, 3, "1-3 d", 1), (2, 3, "1-6 h", 1)]


def test_any_order_and_step_filters_from_a_funnel_file(env, tmp_path):
    f = tmp_path / "funnels.yaml"
    f.write_text("""
funnels:
  - name: tea_any
    steps: [{event_type: view, category: tea}, cart, purchase]
    order: any
    window_days: 1
""")
    write_csv(env.landing / "e.csv", HEADER, priced([
        "2026-10-05 10:00:00,view,a,p,tea,s1,,,",
        "2026-10-05 10:05:00,purchase,a,p,tea,s1,,,",   # any order: purchase counts as step 2
        "2026-10-05 10:10:00,cart,a,p,tea,s1,,,",       # and the cart as step 3
        "2026-10-05 10:00:00,view,b,q,cups,s2,,,",      # not tea: never enters
        "2026-10-05 10:01:00,cart,b,q,cups,s2,,,",
        "2026-10-05 12:00:00,view,c,p,tea,s3,,,",
        "2026-10-06 13:00:00,cart,c,p,tea,s4,,,",       # 25 h later: outside the 1-day window
    ]))
    env.set(CONV_FUNNELS=str(f))
    env.run(SELECT)
    assert env.query("SELECT funnel, step, step_name, entered FROM analytics.user_funnel "
                     "WHERE breakdown = 'all' ORDER BY step") == [
        ("tea_any", 1, "view+tea", 2), ("tea_any", 2, "cart", 1), ("tea_any", 3, "purchase", 1)]


@pytest.mark.parametrize("text, message", [
    ("funnels: []", "must hold `funnels:`"),
    ("funnels:\n  - name: x\n    steps: [view]", "at least two steps"),
    ("funnels:\n  - name: x\n    steps: [view, cart]\n    order: sideways", "order must be strict or any"),
    ("funnels:\n  - name: x\n    steps: [view, {event_type: cart, colour: red}]", "a step is an event type"),
    ("funnels:\n  - name: x\n    steps: [view, cart]\n    window_days: 0", "window_days must be 1..90"),
])
def test_bad_funnel_files_are_one_line_errors(tmp_path, monkeypatch, text, message):
    f = tmp_path / "f.yaml"
    f.write_text(text)
    monkeypatch.setenv("CONV_FUNNELS", str(f))
    with pytest.raises(FunnelError, match=message):
        load_funnels()


INDEPENDENT = """
-- users entering each day (first view of the day), and whether they carted after it and then
-- purchased after that cart, within 7 days of the entry: written here without the pipeline's SQL
WITH entries AS (
    SELECT user_id, event_date AS d, min(event_time) AS t0 FROM clean.events
    WHERE event_type = $s1 GROUP BY ALL
),
s2 AS (
    SELECT e.user_id, e.d, e.t0, min(x.event_time) AS t2 FROM entries e
    JOIN clean.events x ON x.user_id = e.user_id AND x.event_type = $s2
        AND (x.event_time > e.t0 OR (x.event_time = e.t0 AND $s1 <> $s2))
        AND x.event_time <= e.t0 + INTERVAL 7 DAY
    GROUP BY ALL
),
s3 AS (
    SELECT e.user_id, e.d FROM s2 e
    JOIN clean.events x ON x.user_id = e.user_id AND x.event_type = $s3
        AND (x.event_time > e.t2 OR (x.event_time = e.t2 AND $s2 <> $s3))
        AND x.event_time <= e.t0 + INTERVAL 7 DAY
    GROUP BY ALL
)
SELECT d, 1, count(*) FROM entries GROUP BY d
UNION ALL SELECT d, 2, count(*) FROM s2 GROUP BY d
UNION ALL SELECT d, 3, count(*) FROM s3 GROUP BY d
"""


def test_uci_repeat_purchase_funnel_matches_an_independent_count(uci, tmp_path, monkeypatch):
    """UCI has purchases only: purchase -> purchase again -> and again, within 7 days."""
    import shutil

    import dagster as dg

    from conv_assets.definitions import ASSETS, build_resources

    f = tmp_path / "funnels.yaml"
    f.write_text("funnels:\n  - name: rebuy\n    steps: [purchase, purchase, purchase]\n")
    # A copy: the session's UCI warehouse stays as the default funnels built it (other tests
    # compare its checksums).
    wh = tmp_path / "wh.duckdb"
    shutil.copy(uci.warehouse, wh)
    with monkeypatch.context() as mp:
        mp.setenv("CONV_FUNNELS", str(f))
        mp.setenv("CONV_WAREHOUSE", str(wh))
        mp.setenv("CONV_LANDING_DIR", str(tmp_path))
        dg.materialize(ASSETS, resources=build_resources(),
                       selection=dg.AssetSelection.from_string(
                           "key:analytics/user_funnel").required_multi_asset_neighbors(),
                       tags={"dagster/asset_partition_range_start": "2010-12-01",
                             "dagster/asset_partition_range_end": "2011-12-09"})
    con = duckdb.connect(str(wh), read_only=True)
    got = {(d, s): n for d, s, n in con.execute(
        "SELECT entry_date, step, entered FROM analytics.user_funnel "
        "WHERE funnel = 'rebuy' AND breakdown = 'all'").fetchall()}
    want = {(d, s): n for d, s, n in con.execute(
        INDEPENDENT, {"s1": "purchase", "s2": "purchase", "s3": "purchase"}).fetchall()}
    con.close()
    assert got == want
    assert sum(n for (_, s), n in want.items() if s == 3) > 100


def independent_funnel(events: list[tuple], steps: list[str], window_days: int = 7) -> dict:
    """Strict-order user funnel in plain Python: per user and day, the first event of step 1;
    then each step's first event after the previous one (at the same instant only when the types
    differ), within the window from the entry. Returns {(day, step): users}."""
    from bisect import bisect_left, bisect_right
    from collections import Counter, defaultdict
    from datetime import timedelta

    times = defaultdict(list)  # (user, type) -> sorted times
    for user, etype, t in events:
        times[user, etype].append(t)
    for v in times.values():
        v.sort()
    out = Counter()
    entries = {}
    for user, etype, t in events:
        if etype == steps[0]:
            key = (user, t.date())
            entries[key] = min(entries.get(key, t), t)
    for (user, day), t0 in entries.items():
        out[day, 1] += 1
        at = t0
        for k in range(1, len(steps)):
            ts = times.get((user, steps[k]), [])
            i = bisect_left(ts, at) if steps[k] != steps[k - 1] else bisect_right(ts, at)
            if i == len(ts) or ts[i] > t0 + timedelta(days=window_days):
                break
            at = ts[i]
            out[day, k + 1] += 1
    return dict(out)


def test_generated_shop_funnels_match_plain_python(tmp_path, monkeypatch):
    """The generator's marketing shop (checkout steps, channels): both default funnels, every
    entry day and step, equal a count in plain Python over clean events; each checkout step
    loses users, as the generator abandons checkouts part way."""
    from conv_assets.generate import generate
    from tests.conftest import Env

    env = Env(tmp_path, monkeypatch)
    generate(env.landing, days=20, users=600, events_per_day=2500, seed=21, start=date(2026, 5, 1),
             marketing=True)
    env.set(CONV_SOURCE="canonical")
    env.run(SELECT)
    events = env.query("SELECT user_id, event_type, event_time FROM clean.events")
    got_all = env.query("SELECT funnel, entry_date, step, entered FROM analytics.user_funnel "
                        "WHERE breakdown = 'all'")
    totals = {}
    for funnel, steps in (("purchase", ["view", "cart", "purchase"]),
                          ("checkout", ["begin_checkout", "add_shipping_info", "add_payment_info",
                                        "purchase"])):
        got = {(d, s): n for f, d, s, n in got_all if f == funnel}
        want = independent_funnel(events, steps)
        assert got == want, funnel
        totals[funnel] = [sum(n for (_, s), n in want.items() if s == k) for k in range(1, len(steps) + 1)]
    checkout = totals["checkout"]
    assert checkout[0] > 500 and all(a > b for a, b in zip(checkout, checkout[1:], strict=False))
