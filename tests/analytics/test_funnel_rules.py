"""Funnel and session rules on tiny hand-made event files."""

from __future__ import annotations

from datetime import date

from tests.conftest import CANONICAL_HEADER, materialize_days, write_csv


def test_midnight_session_is_one_row_however_days_are_rebuilt(env):
    write_csv(env.landing / "s.csv", CANONICAL_HEADER, [
        "a,2024-05-06T23:50:00Z,view,u1,,p1,c1,,5,,",
        "b,2024-05-07T00:10:00Z,cart,u1,,p1,c1,,5,,",
        "c,2024-05-07T00:20:00Z,purchase,u1,,p1,c1,,5,2,o1",
    ])
    env.run()
    q = "SELECT session_date, events, reached_purchase, revenue, seconds_to_purchase FROM analytics.sessions"
    expected = [(date(2024, 5, 6), 3, True, 10, 1800.0)]
    assert env.query(q) == expected
    for day in ("2024-05-07", "2024-05-06", "2024-05-07"):
        assert materialize_days(day, partitioned_only=True).success
        assert env.query(q) == expected


def test_day_without_events_and_purchase_without_view(env):
    write_csv(env.landing / "s.csv", CANONICAL_HEADER, [
        # u1 buys without a logged view; u2 views and carts, then leaves; u3 only views
        "a,2024-05-06T10:00:00Z,purchase,u1,,p1,c1,,4,1,o1",
        "b,2024-05-06T11:00:00Z,view,u2,,p2,c2,,6,,",
        "c,2024-05-06T11:01:00Z,cart,u2,,p2,c2,,6,3,",
        "d,2024-05-06T12:00:00Z,view,u3,,p1,c1,,4,,",
        # nothing on 05-07
        "e,2024-05-08T09:00:00Z,view,u3,,p1,c1,,4,,",
    ])
    env.run()
    row = env.query(
        "SELECT sessions, sessions_with_view, sessions_with_cart, sessions_with_purchase, "
        "view_to_cart_rate, cart_to_purchase_rate, session_conversion_rate, cart_abandonment_rate,"
        " abandoned_cart_value, orders, revenue, active_users, purchasers, "
        "median_seconds_to_purchase FROM analytics.daily_funnel "
        "WHERE event_date = '2024-05-06' AND category = '(all)'")[0]
    # The purchase counts as viewed and carted (a later step implies the earlier ones).
    assert row == (3, 3, 2, 1, 2 / 3, 1 / 2, 1 / 3, 1 / 2, 18, 1, 4, 3, 1, None)
    empty = env.query(
        "SELECT sessions, orders, revenue, view_to_cart_rate, session_conversion_rate "
        "FROM analytics.daily_funnel WHERE event_date = '2024-05-07'")
    assert empty == [(0, 0, 0, None, None)]
    per_cat = dict(env.query(
        "SELECT category, sessions_with_purchase FROM analytics.daily_funnel "
        "WHERE event_date = '2024-05-06' AND category <> '(all)'"))
    assert per_cat == {"c1": 1, "c2": 0}
    assert env.scalar(
        "SELECT count(*) FROM analytics.daily_funnel WHERE greatest(view_to_cart_rate, "
        "cart_to_purchase_rate, session_conversion_rate, user_conversion_rate, "
        "cart_abandonment_rate) > 1") == 0
    top = env.query("SELECT product_id, abandoned_cart_adds FROM analytics.top_abandoned_products")
    assert top == [("p2", 1)]
