"""CONV_EXCLUDE_SUSPICIOUS=1: flagged users are in no audience, no training set and no funnel."""

from __future__ import annotations

from datetime import date, timedelta

from conv_assets.generate import generate


def _add_scraper(landing, first: date, days: int) -> str:
    """A user viewing hundreds of products a minute, every day, never carting: a scraper."""
    rows = []
    for d in range(days):
        day = first + timedelta(days=d)
        for i in range(300):
            rows.append(f"S{d}-{i},{day}T03:00:{i % 60:02d}.{i:03d}Z,view,SCRAPER,,P{i % 50 + 1:06d},"
                        f"books.fiction,brand001,9.99,1,")
    (landing / "scraper.csv").write_text(
        "event_id,event_time,event_type,user_id,session_id,product_id,category,brand,price,quantity,"
        "order_id\n" + "\n".join(rows) + "\n")
    return "SCRAPER"


def test_flagged_users_are_left_out_everywhere(env):
    first = date(2024, 3, 4)
    generate(env.landing, days=40, users=400, events_per_day=1500, seed=5, start=first,
             dirty_per_kind=0)
    scraper = _add_scraper(env.landing, first, 40)
    env.set(CONV_EXCLUDE_SUSPICIOUS="1")
    env.run()
    flagged = {u for (u,) in env.query(
        "SELECT user_id FROM analytics.suspicious_activity WHERE level = 'user' AND flagged")}
    assert scraper in flagged
    ids = {"ids": sorted(flagged)}
    member = "user_id IN (SELECT unnest(CAST($ids AS VARCHAR[])))"
    for table in ("analytics.campaign_audiences", "analytics.user_features",
                  "analytics.purchase_propensity", "analytics.user_segments", "ml.interactions",
                  "ml.user_factors"):
        assert env.scalar(f"SELECT count(*) FROM {table} WHERE {member}", ids) == 0, table
    # The funnel counts exactly the sessions of users not flagged (computed here from sessions).
    want = dict(env.query(
        f"SELECT session_date, count(*) FROM analytics.sessions WHERE NOT ({member}) GROUP BY 1", ids))
    got = dict(env.query(
        "SELECT event_date, sessions FROM analytics.daily_funnel WHERE category = '(all)' AND sessions > 0"))
    assert got == want
    # And the scraper's sessions are there to be left out.
    assert env.scalar("SELECT count(*) FROM analytics.sessions WHERE user_id = $u", {"u": scraper}) >= 40
