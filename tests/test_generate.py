"""The demo shop's data looks like a shop, and carries the structure the models are meant to
find. Every figure is computed here with DuckDB straight from the CSV files."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from conv_assets.generate import TRUTH, generate
from conv_assets.sources import list_landed_files

FIRST = date(2024, 9, 2)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    out = tmp_path_factory.mktemp("shop")
    paths = generate(out, days=70, users=3000, events_per_day=6000, seed=11, start=FIRST,
                     dirty_per_kind=0)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE e AS SELECT * FROM read_csv('{out}/*.csv', all_varchar = true)")
    con.execute("""CREATE TABLE ev AS SELECT *, CAST(event_time AS TIMESTAMP) AS ts,
                   CAST(CAST(event_time AS TIMESTAMP) AS DATE) AS day FROM e""")
    con.execute(f"CREATE TABLE truth AS SELECT * FROM read_csv('{out / TRUTH}')")
    yield out, paths, con
    con.close()


def one(con, sql):
    return con.execute(sql).fetchall()[0][0]


def test_rates_concentration_and_weekly_spread(shop):
    _, _, con = shop
    cart_view = one(con, "SELECT count(*) FILTER (event_type = 'cart') / count(*) FILTER (event_type = 'view') FROM ev")
    buy_view = one(con, "SELECT count(*) FILTER (event_type = 'purchase') / count(*) FILTER (event_type = 'view') FROM ev")
    assert 0.02 <= cart_view <= 0.15
    assert 0.005 <= buy_view <= 0.06
    top_share = one(con, """
        WITH v AS (SELECT product_id, count(*) AS n FROM ev WHERE event_type = 'view' GROUP BY 1),
        r AS (SELECT n, row_number() OVER (ORDER BY n DESC) AS rk, count(*) OVER () AS products FROM v)
        SELECT sum(n) FILTER (rk <= products / 100) / sum(n) FROM r""")
    assert top_share >= 0.15
    spread = one(con, """
        WITH d AS (SELECT day, count(*) AS n FROM ev GROUP BY 1),
        w AS (SELECT dayofweek(day) AS wd, avg(n) AS n FROM d GROUP BY 1)
        SELECT max(n) / min(n) FROM w""")
    assert spread >= 1.1


def test_sessions_are_two_to_forty_events_and_stay_in_one_or_two_categories(shop):
    _, _, con = shop
    # Sessions as the pipeline defines them: a 30-minute gap starts a new one.
    con.execute("""CREATE TABLE s AS
        WITH g AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY user_id ORDER BY ts, event_id)
                                       <= INTERVAL 30 MINUTE THEN 0 ELSE 1 END AS new FROM ev),
        n AS (SELECT *, sum(new) OVER (PARTITION BY user_id ORDER BY ts, event_id) AS sess FROM g)
        SELECT user_id, sess, count(*) AS events, count(DISTINCT category) AS categories
        FROM n GROUP BY ALL""")
    mean = one(con, "SELECT avg(events) FROM s")
    assert 2 <= mean <= 40
    assert one(con, "SELECT avg(CASE WHEN categories <= 2 THEN 1 ELSE 0 END) FROM s") >= 0.8


def test_tastes_repeat_purchases_launches_churn_and_a_closed_day(shop):
    out, paths, con = shop
    # Tastes: a user's purchases fall in their two favourite categories far more often than the
    # two most common categories' share of all purchases.
    own = one(con, """
        WITH p AS (SELECT user_id, category, count(*) AS n FROM ev WHERE event_type = 'purchase' GROUP BY 1, 2),
        r AS (SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY n DESC, category) AS rk,
                     sum(n) OVER (PARTITION BY user_id) AS total FROM p)
        SELECT sum(n) FILTER (rk <= 2) / sum(n) FROM r WHERE total >= 5""")
    base = one(con, """
        WITH c AS (SELECT category, count(*) AS n FROM ev WHERE event_type = 'purchase' GROUP BY 1)
        SELECT sum(n) FILTER (rk <= 2) / sum(n) FROM (SELECT n, row_number() OVER (ORDER BY n DESC) AS rk FROM c)""")
    assert own >= 0.6 and own >= 2 * base
    # Purchase cycles: many users buy the same product on three or more different days.
    assert one(con, """SELECT count(*) FROM (SELECT user_id, product_id FROM ev WHERE event_type = 'purchase'
                       GROUP BY 1, 2 HAVING count(DISTINCT day) >= 3)""") >= 100
    # Launches: products first seen after the first two weeks; fading: products seen in the
    # first two weeks but not in the last two.
    assert one(con, f"""SELECT count(*) FROM (SELECT product_id FROM ev GROUP BY 1
                        HAVING min(day) > DATE '{FIRST}' + 14)""") >= 50
    assert one(con, """SELECT count(*) FROM (SELECT product_id FROM ev GROUP BY 1
                       HAVING max(day) < (SELECT max(day) FROM ev) - 14)""") >= 10
    # Users arrive over time and churn.
    assert one(con, f"""SELECT count(*) FROM (SELECT user_id FROM ev GROUP BY 1
                        HAVING min(day) > DATE '{FIRST}' + 30)""") >= 100
    # The closed holiday: one day of the range has no file and no event, and the week before
    # it sells more than the week before that.
    days = {date.fromisoformat(p.stem.split("_")[1]) for p in paths}
    assert len(days) == 69
    assert one(con, "SELECT count(DISTINCT day) FROM ev") == 69
    closed = one(con, f"""SELECT d FROM range(DATE '{FIRST}', DATE '{FIRST}' + 70, INTERVAL 1 DAY) t(d)
                         WHERE CAST(d AS DATE) NOT IN (SELECT day FROM ev)""")
    week = one(con, f"""SELECT count(*) FILTER (day >= DATE '{closed:%Y-%m-%d}' - 7)
                        / count(*) FILTER (day < DATE '{closed:%Y-%m-%d}' - 7)
                        FROM ev WHERE day < DATE '{closed:%Y-%m-%d}' AND day >= DATE '{closed:%Y-%m-%d}' - 14""")
    assert week >= 1.2


def test_ground_truth_names_the_bad_actors_and_they_behave_so(shop):
    out, _, con = shop
    kinds = dict(con.execute("SELECT kind, count(*) FROM truth GROUP BY 1").fetchall())
    assert set(kinds) == {"scraper", "card_tester", "reseller"} and all(n >= 2 for n in kinds.values())
    # The truth file is hidden from the landing scan: only the daily CSVs are landed files.
    assert (out / TRUTH).exists()
    assert {p.name for p in list_landed_files(out)} == {p.name for p in out.glob("*.csv")}
    scrapers = one(con, """SELECT min(m) FROM (SELECT user_id, max(n) AS m FROM (
        SELECT user_id, date_trunc('minute', ts), count(*) AS n FROM ev
        WHERE user_id IN (SELECT user_id FROM truth WHERE kind = 'scraper') GROUP BY ALL) GROUP BY 1)""")
    assert scrapers >= 100  # hundreds of views a minute
    resellers = one(con, """SELECT min(q) FROM (SELECT user_id, max(CAST(quantity AS INTEGER)) AS q FROM ev
        WHERE event_type = 'purchase' AND user_id IN (SELECT user_id FROM truth WHERE kind = 'reseller')
        GROUP BY 1)""")
    assert resellers >= 100
    testers = con.execute("""SELECT count(*) FILTER (event_type = 'purchase'), count(*) FILTER (event_type = 'return')
        FROM ev WHERE user_id IN (SELECT user_id FROM truth WHERE kind = 'card_tester')""").fetchall()[0]
    assert testers[0] >= 15 * kinds["card_tester"] and testers[1] >= 0.4 * testers[0]


def test_same_seed_same_files(tmp_path):
    a = generate(tmp_path / "a", days=3, users=200, events_per_day=500, seed=4, start=FIRST)
    b = generate(tmp_path / "b", days=3, users=200, events_per_day=500, seed=4, start=FIRST)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert (tmp_path / "a" / TRUTH).read_bytes() == (tmp_path / "b" / TRUTH).read_bytes()


def test_marketing_adds_context_checkout_and_spend_and_changes_nothing_else(tmp_path):
    """With marketing, the same shop gains channels, devices, countries, the checkout steps
    before every purchase and a spend file; every other event is the same as without it."""
    from conv_assets.generate import CHECKOUT, SPEND

    plain = generate(tmp_path / "a", days=6, users=500, events_per_day=2000, seed=4, start=FIRST,
                     dirty_per_kind=0)
    rich = generate(tmp_path / "b", days=6, users=500, events_per_day=2000, seed=4, start=FIRST,
                    dirty_per_kind=0, marketing=True)
    con = duckdb.connect()
    for name, paths in (("a", plain), ("b", rich)):
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv($f, all_varchar = true, "
                    "union_by_name = true)", {"f": [str(p) for p in paths]})
    steps = "('" + "', '".join(CHECKOUT) + "')"
    cols = "event_time, event_type, user_id, product_id, category, price, quantity, order_id"
    assert one(con, f"SELECT count(*) FROM (SELECT {cols} FROM a EXCEPT ALL SELECT {cols} FROM b "
                    f"WHERE event_type NOT IN {steps})") == 0
    assert one(con, f"SELECT count(*) FROM (SELECT {cols} FROM b WHERE event_type NOT IN {steps} "
                    f"EXCEPT ALL SELECT {cols} FROM a)") == 0
    assert "utm_source" not in [c for c, *_ in con.execute("DESCRIBE a").fetchall()]
    # Every purchase row has its three checkout rows (same user and product) 45, 30 and 15 s
    # before it; other checkouts stop part way, so each step has fewer rows than the one before.
    for k, step in enumerate(CHECKOUT):
        assert one(con, f"""SELECT count(*) FROM b p WHERE p.event_type = 'purchase' AND NOT EXISTS (
            SELECT 1 FROM b c WHERE c.event_type = '{step}' AND c.user_id = p.user_id
            AND c.product_id = p.product_id AND CAST(c.event_time AS TIMESTAMP)
                = CAST(p.event_time AS TIMESTAMP) - INTERVAL {45 - 15 * k} SECOND)""") == 0
    n = [one(con, f"SELECT count(*) FROM b WHERE event_type = '{s}'") for s in (*CHECKOUT, "purchase")]
    assert n[0] > n[1] > n[2] > n[3] > 100
    # Context on every row, and every channel drawn.
    assert one(con, "SELECT count(*) FROM b WHERE device IS NULL OR country IS NULL") == 0
    shares = dict(con.execute("SELECT coalesce(utm_medium, 'none'), count(*) / sum(count(*)) OVER () "
                              "FROM b GROUP BY 1").fetchall())
    assert set(shares) == {"cpc", "paid_social", "email", "none"} and min(shares.values()) > 0.03
    # Spend: one row per day and paid channel, named as channel_attribution names channels.
    spend = con.execute(f"SELECT date, channel, spend FROM read_csv('{tmp_path / 'b' / SPEND}') "
                        "ORDER BY 1, 2").fetchall()
    assert len(spend) == 6 * 3 and all(s > 0 for *_, s in spend)
    assert {c for _, c, _ in spend} == {"google / cpc", "facebook / paid_social", "newsletter / email"}
    assert not (tmp_path / "a" / SPEND).exists()
    assert SPEND not in {p.name for p in list_landed_files(tmp_path / "b")}
    assert not (tmp_path / "a" / "calendar.csv").exists()


def test_marketing_calendar_names_the_promotions_and_the_closed_day(tmp_path):
    """40 days: each promotion (one every 30 days) lifts one category for 4-7 days, and the
    closed day has no file."""
    from conv_assets.generate import CALENDAR
    from conv_assets.sources import list_calendar_files

    paths = generate(tmp_path, days=40, users=400, events_per_day=1500, seed=4, start=FIRST,
                     dirty_per_kind=0, marketing=True)
    con = duckdb.connect()
    cal = con.execute(f"SELECT CAST(date AS DATE), kind, category FROM read_csv('{tmp_path / CALENDAR}', "
                      "all_varchar = true)").fetchall()
    promos = [(d, c) for d, k, c in cal if k == "promotion"]
    closed = [d for d, k, _ in cal if k == "closed"]
    assert 4 <= len(promos) <= 14
    assert len(closed) == 1 and f"events_{closed[0]}.csv" not in {p.name for p in paths}
    assert len(paths) == 39
    # Each promoted category's share of views is higher on its promotion days than on the others.
    for category in {c for _, c in promos}:
        days = ", ".join(f"DATE '{d}'" for d, c in promos if c == category)
        share = dict(con.execute(f"""SELECT CAST(event_time AS DATE) IN ({days}),
            avg(CAST(category = '{category}' AS DOUBLE)) FROM read_csv($f, all_varchar = true)
            WHERE event_type = 'view' GROUP BY 1""", {"f": [str(p) for p in paths]}).fetchall())
        assert share[True] > 1.5 * share[False], category
    assert list_calendar_files(tmp_path) == [tmp_path / CALENDAR]
    assert CALENDAR not in {p.name for p in list_landed_files(tmp_path)}
