"""Customers who arrive after the day's fit get recommendations from their own events, from the
saved model, without a refit."""

from __future__ import annotations

from datetime import date, timedelta

from conv_assets.generate import generate
from tests.conftest import CANONICAL_HEADER, write_csv


def test_a_customer_arriving_after_the_fit_gets_lists_from_their_own_events(env):
    generate(env.landing, days=70, users=1500, events_per_day=3000, seed=22,
             start=date(2024, 1, 1), dirty_per_kind=0)
    env.run()
    model = env.warehouse.parent / "models" / "als.npz"
    fitted = model.stat().st_mtime_ns
    factors = env.query("SELECT product_id, factors FROM ml.item_factors ORDER BY 1")
    cutoff = env.scalar("SELECT max(cutoff_date) FROM ml.user_recommendations")
    # The product in the most orders before the fit's cutoff.
    (x,) = env.query("""
        SELECT product_id FROM clean.events WHERE event_type = 'purchase' AND event_date < $c
        GROUP BY 1 ORDER BY count(DISTINCT order_id) DESC, 1 LIMIT 1""", {"c": cutoff})[0]
    # Two customers arrive the day after the latest: one buys x, one views a product the shop
    # has never sold before.
    day = env.scalar("SELECT max(event_date) FROM clean.events") + timedelta(days=1)
    t = f"{day}T10:00:00Z"
    write_csv(env.landing / f"events_{day}.csv", CANONICAL_HEADER, [
        f"n1,{t},view,newcomer,ns1,{x},c,,5,1,",
        f"n2,{t},purchase,newcomer,ns1,{x},c,,5,1,no1",
        f"n3,{t},view,stranger,ns2,BRAND-NEW,c,,5,1,",
    ])
    env.run(select="key:raw/events or key:clean/events or key:ml/new_user_recommendations")
    assert model.stat().st_mtime_ns == fitted  # no refit
    assert env.query("SELECT product_id, factors FROM ml.item_factors ORDER BY 1") == factors
    rows = env.query("SELECT user_id, rank, product_id, reason, because_product_id, source, "
                     "cutoff_date, model_cutoff_date FROM ml.new_user_recommendations "
                     "ORDER BY user_id, rank")
    # Nobody the fit has seen: users with events since its cutoff (the two, and those whose
    # first day was the cutoff day itself, which the fit leaves out as still filling up).
    unseen = {u for (u,) in env.query(
        "SELECT DISTINCT user_id FROM clean.events WHERE event_date >= $c "
        "EXCEPT SELECT user_id FROM ml.user_factors", {"c": cutoff})}
    assert {r[0] for r in rows} == unseen and {"newcomer", "stranger"} <= unseen
    mine = [r for r in rows if r[0] == "newcomer"]
    assert [r[1] for r in mine] == list(range(1, 11))
    assert all(r[6] == day + timedelta(days=1) and r[7] == cutoff for r in rows)
    # Every row of the newcomer's list comes from x (bought, so not itself recommended) ...
    assert x not in {r[2] for r in mine}
    # ... from x's neighbours, or its category's best-sellers: personal, not the best-sellers.
    assert {(r[3], r[4]) for r in mine} <= {("bought_together", x), ("similar_to", x),
                                            ("popular_in_category", None), ("popular", None)}
    assert sum(r[4] == x for r in mine) >= 6
    # Most of it in x's category (the generated shop's customers keep to their categories),
    # against a few of the best-sellers.
    category = dict(env.query("SELECT product_id, any_value(category) FROM clean.events GROUP BY 1"))
    own = sum(category[r[2]] == category[x] for r in mine)
    # The stranger's only product is unknown to the model: the fit's best-sellers (distinct
    # buyers in the 28 days before its cutoff).
    best = [p for (p,) in env.query("""
        SELECT product_id FROM clean.events WHERE event_type = 'purchase' AND event_date < $c
          AND event_date >= $c - 28 GROUP BY 1 ORDER BY count(DISTINCT user_id) DESC, 1 LIMIT 10""",
        {"c": cutoff})]
    assert [(r[2], r[3], r[4], r[5]) for r in rows if r[0] == "stranger"] == [
        (p, "popular", None, "popularity") for p in best]
    assert own >= 6 and own >= 3 * sum(category[p] == category[x] for p in best)
