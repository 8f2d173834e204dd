"""Synthetic landed files in the canonical schema, for the demo, tests and benchmarks.

One CSV per open day, vectorised with numpy. The shop has structure a model can learn:

- **Tastes.** Categories, products and users have latent vectors. A product's chance in a view is
  its popularity raised to a power times exp(user . product) (sampled per view from a few
  popularity-drawn candidates, by the Gumbel-max trick). A session stays in one category, with
  some views in the user's second one.
- **Purchase cycles.** Some users re-buy a favourite consumable on their own rhythm (7-35 days).
- **Catalogue life.** A quarter of the products launch during the period (boosted for two weeks),
  a quarter of the old ones fade away.
- **Calendar.** Weekly and yearly seasonality, a gentle trend, a promotion per month that lifts
  one category, a closed holiday (Christmas Day when the range covers it, otherwise the day at 3/4
  of the range) with a peak in the week before it.
- **Users.** Most exist at the start, the rest arrive over time; each has a lifetime after which
  they churn.
- **Bad actors.** Scrapers (hundreds of views a minute), card testers (many tiny orders, most
  returned) and reseller bulk buyers. Their ids are the ground truth in
  `<out>/.truth/suspicious_users.csv` (hidden, so the landing scan skips it).

A few dirty rows of each quarantine kind are added per day, so cleaning always has work.

With `marketing=True` (the demo and `conv-assets generate`), each session also gets a channel
(utm_source / utm_medium / utm_campaign or a referrer; sessions that buy come more often from
email and search ads), each user a device and a country, every purchase the checkout steps
before it (begin_checkout, add_shipping_info, add_payment_info, one row per bought product) and
some carts a checkout abandoned part way; `marketing_spend.csv` holds the paid channels' daily
spend and `calendar.csv` the promotions (day and category) and the closed day. These draws come from a random stream of their own, so the other events are the same
with and without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl

CATEGORIES = [
    "electronics.smartphone", "electronics.audio", "electronics.tablet", "computers.notebook",
    "computers.peripherals", "appliances.kitchen", "appliances.environment", "home.furniture",
    "home.decor", "apparel.shoes", "apparel.outerwear", "apparel.accessories", "beauty.skincare",
    "beauty.fragrance", "sport.fitness", "sport.bicycle", "kids.toys", "books.fiction",
    "food.coffee", "garden.tools", "pets.food", "household.cleaning",
]
CONSUMABLE = ("beauty.skincare", "food.coffee", "pets.food", "household.cleaning")
# Weekly volume multipliers, Monday first.
WEEKDAY_FACTOR = np.array([1.0, 0.97, 0.95, 1.0, 1.08, 1.22, 1.15])
DIRTY_KINDS = ("missing_user", "missing_product", "bad_timestamp", "out_of_range_date",
               "bad_price", "unknown_event_type", "bad_quantity", "duplicate")
DIM = 8                 # latent taste dimensions
CANDIDATES = 24         # a session's consideration set, drawn by popularity
POP_POWER = 0.8         # popularity raised to this power
EVENTS_PER_SESSION = 5.9
TRUTH = Path(".truth") / "suspicious_users.csv"
SPEND = "marketing_spend.csv"
CALENDAR = "calendar.csv"
# Channels: utm_source, utm_medium, utm_campaign, referrer; the share of sessions without and
# with a purchase; the cost of a session (paid channels) or a day (email).
CHANNELS = (
    ("google", "cpc", "search_brand", "https://www.google.com/", 0.16, 0.26, 12.0, 0.0),
    ("facebook", "paid_social", "retargeting", "https://m.facebook.com/", 0.14, 0.10, 9.0, 0.0),
    ("newsletter", "email", "weekly", None, 0.06, 0.16, 0.0, 700.0),
    (None, None, None, "https://www.google.com/", 0.24, 0.20, 0.0, 0.0),
    (None, None, None, "https://www.pinterest.com/", 0.05, 0.03, 0.0, 0.0),
    (None, None, None, None, 0.35, 0.25, 0.0, 0.0),
)
DEVICES = (("mobile", 0.56), ("desktop", 0.37), ("tablet", 0.07))
COUNTRIES = (("DE", 0.3), ("FR", 0.18), ("GB", 0.17), ("NL", 0.1), ("ES", 0.1), ("IT", 0.09),
             ("US", 0.06))
CHECKOUT = ("begin_checkout", "add_shipping_info", "add_payment_info")


@dataclass(frozen=True)
class Shop:
    """Everything fixed for the whole period: catalogue, users, calendar, bad actors."""
    # catalogue
    product_id: pl.Series
    category: np.ndarray        # index into CATEGORIES
    brand: pl.Series
    price: np.ndarray
    pop: np.ndarray             # base popularity ** POP_POWER
    pvec: np.ndarray            # (products, DIM) float32
    launch: np.ndarray          # day index the product appears (negative: before the period)
    fade: np.ndarray            # daily decay rate (0 for most products)
    # users (normal users first, bad actors after them)
    user_id: pl.Series          # external ids, shuffled so bad actors do not stand out
    activity: np.ndarray
    arrive: np.ndarray
    churn: np.ndarray
    pref: np.ndarray            # (users, 2) preferred categories
    uvec: np.ndarray            # (users, DIM) float32
    cons_product: np.ndarray    # favourite consumable (-1: none)
    cons_period: np.ndarray
    cons_phase: np.ndarray
    n_normal: int
    scrapers: np.ndarray        # user indices
    testers: np.ndarray
    resellers: np.ndarray
    bad_days: dict              # user index -> set of day indices it acts on
    # calendar
    promos: list                # (category, first day index, last day index)
    closed: int                 # day index the shop is closed
    cat_share: np.ndarray
    taste: bool


def make_shop(days: int, first: date, n_users: int, rng: np.random.Generator,
              taste: bool = True) -> Shop:
    """taste=False: a shop whose users have no preferences (every choice by popularity alone),
    where nothing can beat a best-seller list."""
    n_cat = len(CATEGORIES)
    n_prod = max(60, min(50_000, n_users // 2))
    centroid = rng.normal(0, 1, (n_cat, DIM))
    cat_share = rng.dirichlet(np.full(n_cat, 3.0))
    category = rng.choice(n_cat, n_prod, p=cat_share)
    ranks = np.arange(1, n_prod + 1)
    pop = (1.0 / ranks**1.1) ** POP_POWER
    pvec = 0.7 * centroid[category] + rng.normal(0, 0.9, (n_prod, DIM))
    base = np.exp(rng.normal(3.2, 0.9, n_prod))
    cat_scale = rng.uniform(0.3, 3.0, n_cat)[category]
    cons_cat = np.array([c in CONSUMABLE for c in CATEGORIES])
    price = np.round(np.where(cons_cat[category], base * 0.4, base * cat_scale), 2).clip(0.5)
    launch = np.where(rng.random(n_prod) < 0.25, rng.integers(0, max(1, days), n_prod), -1)
    fade = np.where((launch < 0) & (rng.random(n_prod) < 0.25), rng.uniform(0.01, 0.05, n_prod), 0.0)

    n_bad = max(2, n_users // 1500)
    n_res = max(2, n_users // 2500)
    n_all = n_users + 2 * n_bad + n_res
    activity = rng.lognormal(0.0, 0.9, n_all)  # some users come back far more often than others
    arrive = np.where(rng.random(n_all) < 0.55, -1, rng.integers(0, max(1, days), n_all))
    churn = np.maximum(arrive, 0) + rng.exponential(1.5 * days + 30, n_all).astype(np.int64) + 7
    p1 = rng.choice(n_cat, n_all, p=cat_share)
    p2 = (p1 + rng.integers(1, n_cat, n_all)) % n_cat
    pref = np.stack([p1, p2], axis=1)
    uvec = 0.5 * (centroid[p1] + 0.5 * centroid[p2]) + rng.normal(0, 0.7, (n_all, DIM))
    if not taste:
        uvec[:] = 0.0
    # A favourite consumable for about a third of the users, bought every 7-35 days.
    has_cons = rng.random(n_all) < 0.35
    cons_idx = np.flatnonzero(cons_cat[category])
    if cons_idx.size == 0:
        has_cons[:] = False
        cons_idx = np.arange(1)
    cw = pop[cons_idx] / pop[cons_idx].sum()
    cons_product = np.where(has_cons, cons_idx[rng.choice(cons_idx.size, n_all, p=cw)], -1)
    cons_period = rng.integers(7, 36, n_all)
    cons_phase = rng.integers(0, 10_000, n_all) % cons_period

    scrapers = np.arange(n_users, n_users + n_bad)
    testers = np.arange(n_users + n_bad, n_users + 2 * n_bad)
    resellers = np.arange(n_users + 2 * n_bad, n_all)
    last = max(1, days - 1)  # acting before the latest day, which is still filling up
    bad_days = {int(u): set(rng.choice(last, min(last, int(rng.integers(1, 4))), replace=False).tolist())
                for u in np.r_[scrapers, testers]}
    bad_days |= {int(u): set(rng.choice(last, min(last, int(rng.integers(3, 9))), replace=False).tolist())
                 for u in resellers}
    activity[n_users:] = 0.0  # bad actors only do their own thing
    cons_product[n_users:] = -1

    promos = []
    for start in range(int(rng.integers(3, 20)), days - 3, 30):
        promos.append((int(rng.choice(n_cat, p=cat_share)), start, start + int(rng.integers(3, 7))))
    christmas = [d for d in range(days) if (first + timedelta(days=d)).strftime("%m-%d") == "12-25"]
    closed = christmas[0] if christmas else (days * 3) // 4 if days >= 8 else -1
    return Shop(
        product_id=pl.Series([f"P{i:06d}" for i in ranks]), category=category,
        brand=pl.Series([f"brand{b:03d}" for b in rng.integers(0, 80, n_prod)]), price=price,
        pop=pop, pvec=pvec.astype(np.float32), launch=launch, fade=fade,
        user_id=pl.Series([f"U{i}" for i in rng.permutation(n_all)]), activity=activity,
        arrive=arrive, churn=churn, pref=pref, uvec=uvec.astype(np.float32),
        cons_product=cons_product, cons_period=cons_period, cons_phase=cons_phase,
        n_normal=n_users, scrapers=scrapers, testers=testers, resellers=resellers,
        bad_days=bad_days, promos=promos, closed=closed, cat_share=cat_share, taste=taste,
    )


def day_factor(shop: Shop, d: int, day: date, rng: np.random.Generator) -> float:
    """Volume multiplier: weekday, season (peak at Christmas), trend, the week before closing."""
    season = 1 + 0.12 * np.cos(2 * np.pi * (day.timetuple().tm_yday - 359) / 365.25)
    peak = 1.35 if 0 < shop.closed - d <= 7 else 1.0
    return float(WEEKDAY_FACTOR[day.weekday()] * season * (1 + 0.002 * d) * peak
                 * rng.normal(1.0, 0.04))


def _pick_products(shop: Shop, d: int, main: np.ndarray, other: np.ndarray, users: np.ndarray,
                   sess: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One product per view. Each session draws a consideration set of CANDIDATES products by
    popularity ** power (most from its main category, some from the user's other one); each view
    picks from the set with probability proportional to exp(user . product)."""
    age = d - shop.launch
    w = shop.pop * (age >= 0) * np.where((age >= 0) & (age < 14) & (shop.launch >= 0), 3.0, 1.0)
    w = w * np.exp(-shop.fade * max(d, 0))
    order = np.lexsort((np.arange(w.size), shop.category))
    cum = np.cumsum(w[order])
    bounds = np.searchsorted(shop.category[order], np.arange(len(CATEGORIES) + 1))
    lo = np.r_[0.0, cum][bounds[:-1]]
    hi = np.r_[0.0, cum][bounds[1:]]
    cat = np.where(rng.random((main.size, CANDIDATES)) < 0.85, main[:, None], other[:, None])
    draw = lo[cat] + rng.random(cat.shape) * (hi[cat] - lo[cat])
    cand = order[np.clip(np.searchsorted(cum, draw, side="right"), 0, cum.size - 1)]
    score = np.einsum("nk,nck->nc", shop.uvec[users], shop.pvec[cand])
    p = np.exp(score - score.max(axis=1, keepdims=True))
    cdf = np.cumsum(p, axis=1)
    cdf /= cdf[:, -1:]
    pick = (cdf[sess] < rng.random((sess.size, 1))).sum(axis=1).clip(max=CANDIDATES - 1)
    return cand[sess, pick]


@dataclass(frozen=True)
class Marketing:
    """The marketing draws' own random stream and each user's device and country."""
    rng: np.random.Generator
    device: np.ndarray          # (users,) index into DEVICES
    country: np.ndarray         # (users,) index into COUNTRIES


def make_marketing(shop: Shop, seed: int) -> Marketing:
    rng = np.random.default_rng([seed, 1])
    n = shop.activity.size
    return Marketing(rng, rng.choice(len(DEVICES), n, p=[w for _, w in DEVICES]),
                     rng.choice(len(COUNTRIES), n, p=[w for _, w in COUNTRIES]))


def day_events(shop: Shop, d: int, day: date, n_target: int, rng: np.random.Generator,
               mk: Marketing | None = None) -> pl.DataFrame:
    """One day's clean events (before dirt), as canonical columns (and the marketing ones, with
    `mk`)."""
    n_sess = max(1, round(n_target / EVENTS_PER_SESSION))
    alive = (shop.arrive <= d) & (d < shop.churn)
    w = shop.activity * alive
    users = rng.choice(w.size, n_sess, p=w / w.sum())
    promo = [p for p in shop.promos if p[1] <= d <= p[2]]
    r = rng.random(n_sess) if shop.taste else np.ones(n_sess)
    main = np.where(r < 0.6, shop.pref[users, 0],
                    np.where(r < 0.85, shop.pref[users, 1],
                             rng.choice(len(CATEGORIES), n_sess, p=shop.cat_share)))
    if promo:
        main = np.where(rng.random(n_sess) < 0.25, promo[0][0], main)
    hours = rng.choice(24, n_sess, p=_hour_profile())
    start = hours * 3600 + rng.integers(0, 3600, n_sess)
    n_views = np.clip(rng.geometric(1 / 5.0, n_sess), 1, 60)
    sess = np.repeat(np.arange(n_sess), n_views)
    vuser = users[sess]
    other = np.where(main == shop.pref[users, 0], shop.pref[users, 1], shop.pref[users, 0])
    if not shop.taste:
        other = rng.choice(len(CATEGORIES), n_sess, p=shop.cat_share)
    prod = _pick_products(shop, d, main, other, users, sess, rng)
    first = np.r_[0, np.cumsum(n_views)[:-1]]
    offs = np.cumsum(rng.exponential(45.0, sess.size))
    t = np.repeat(start, n_views) + offs - np.repeat(offs[first], n_views)
    p_cart = np.where(np.isin(shop.category[prod], [p[0] for p in promo]), 0.12, 0.075)
    carted = rng.random(sess.size) < p_cart
    bought = carted & (rng.random(sess.size) < 0.4)
    qty = np.clip(rng.geometric(0.6, sess.size), 1, 12)
    returned = bought & (rng.random(sess.size) < 0.03)
    views = [(sess, vuser, prod, t, carted, bought, returned, qty)]
    nxt = n_sess

    # Replenishment: users whose consumable is due today view it and buy it.
    due = np.flatnonzero(alive & (shop.cons_product >= 0)
                         & ((d - shop.cons_phase) % shop.cons_period == 0))
    due = due[rng.random(due.size) < 0.9]
    if due.size:
        k = due.size
        ones = np.ones(k, dtype=bool)
        views.append((nxt + np.arange(k), due, shop.cons_product[due],
                      rng.choice(24, k, p=_hour_profile()) * 3600.0 + rng.integers(0, 3000, k),
                      ones, ones, ~ones, rng.integers(1, 3, k)))
        nxt += k

    # Bad actors acting today.
    today = [u for u, ds in shop.bad_days.items() if d in ds]
    alive_p = np.flatnonzero(shop.launch <= d)
    cheap = alive_p[shop.price[alive_p] <= np.quantile(shop.price[alive_p], 0.1)]
    for u in today:
        t0 = float(rng.integers(0, 20 * 3600))
        if u in set(shop.scrapers.tolist()):  # hundreds of views a minute, never a cart
            k = int(rng.integers(300, 900))
            z = np.zeros(k, dtype=bool)
            views.append((np.full(k, nxt), np.full(k, u), rng.choice(alive_p, k),
                          t0 + np.cumsum(rng.exponential(0.25, k)), z, z, z, np.ones(k, dtype=np.int64)))
            nxt += 1
        elif u in set(shop.testers.tolist()):  # many tiny orders, most of them returned
            k = int(rng.integers(15, 40))
            ones = np.ones(k, dtype=bool)
            views.append((nxt + np.arange(k), np.full(k, u), rng.choice(cheap, k),
                          t0 + np.arange(k) * rng.uniform(60, 180), ones, ones,
                          rng.random(k) < 0.6, np.ones(k, dtype=np.int64)))
            nxt += k
        else:  # a reseller: one large order of a popular product
            ones = np.ones(1, dtype=bool)
            views.append((np.array([nxt]), np.array([u]), rng.choice(alive_p[:50], 1),
                          np.array([t0]), ones, ones, ~ones, rng.integers(100, 400, 1)))
            nxt += 1
    sess, vuser, prod, t, carted, bought, returned, qty = (np.concatenate(c) for c in zip(*views, strict=True))
    removed = carted & ~bought & (rng.random(sess.size) < 0.15)

    def block(mask: np.ndarray, etype: str, delay: float, one: bool) -> dict:
        idx = np.flatnonzero(mask)
        return {"t": t[idx] + delay + rng.exponential(20.0, idx.size) * (delay > 0),
                "etype": np.full(idx.size, etype), "user": vuser[idx], "prod": prod[idx],
                "sess": sess[idx], "qty": np.ones(idx.size, dtype=np.int64) if one else qty[idx]}

    parts = [block(np.ones(sess.size, dtype=bool), "view", 0.0, True),
             block(carted, "cart", 5.0, True), block(removed, "remove_from_cart", 120.0, True),
             block(bought, "purchase", 60.0, False), block(returned, "return", 3600.0, False)]
    if mk is not None:
        parts += _checkout_parts(parts[1], parts[3], (~bought & ~removed)[carted], mk.rng)
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    before_midnight = cols["t"] < 86400  # a session running past midnight is cut there
    cols = {k: v[before_midnight] for k, v in cols.items()}
    ms = (cols["t"] * 1000).astype(np.int64)
    stamp = f"{day:%Y%m%d}"
    prod = cols["prod"]
    context = {}
    if mk is not None:
        # A session's channel: sessions with a purchase draw from the buying shares.
        n = int(sess.max()) + 1 if sess.size else 0
        buys = np.zeros(n, dtype=bool)
        buys[sess[bought]] = True
        channel = np.where(buys, _draw(mk.rng, [c[5] for c in CHANNELS], n),
                           _draw(mk.rng, [c[4] for c in CHANNELS], n))[cols["sess"]]
        for j, name in enumerate(("utm_source", "utm_medium", "utm_campaign", "referrer")):
            context[name] = pl.Series([c[j] for c in CHANNELS], dtype=pl.String).gather(channel)
        context["device"] = pl.Series([x for x, _ in DEVICES]).gather(mk.device[cols["user"]])
        context["country"] = pl.Series([x for x, _ in COUNTRIES]).gather(mk.country[cols["user"]])
    return (
        pl.DataFrame({
            "ms": ms, "event_type": pl.Series(cols["etype"], dtype=pl.Categorical),
            "user_id": shop.user_id.gather(cols["user"]),
            "product_id": shop.product_id.gather(prod),
            "category": pl.Series(CATEGORIES).gather(shop.category[prod]),
            "brand": shop.brand.gather(prod), "price": shop.price[prod],
            "sess": cols["sess"], "quantity": cols["qty"], **context,
        })
        .sort("ms", maintain_order=True)
        .select(
            (pl.lit(f"E{stamp}-") + pl.int_range(pl.len()).cast(pl.String)).alias("event_id"),
            (pl.lit(datetime.combine(day, time())) + pl.duration(milliseconds=pl.col("ms")))
            .dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").alias("event_time"),
            pl.col("event_type").cast(pl.String), "user_id",
            pl.lit(None, pl.String).alias("session_id"),
            "product_id", "category", "brand",
            pl.col("price").cast(pl.String),
            pl.col("quantity").cast(pl.String),
            pl.when(pl.col("event_type").is_in(["purchase", "return"]))
            .then(pl.lit(f"O{stamp}-") + pl.col("sess").cast(pl.String))
            .alias("order_id"),
            *context,
        )
    )


def _draw(rng: np.random.Generator, weights: list[float], n: int) -> np.ndarray:
    w = np.asarray(weights)
    return rng.choice(w.size, n, p=w / w.sum())


def _checkout_parts(carts: dict, purchases: dict, left: np.ndarray, rng: np.random.Generator
                    ) -> list[dict]:
    """The checkout steps: before every purchase (45, 30 and 15 s before it, one row per bought
    product), and for a share of the carts left in the cart (`left`, per cart row), begin_checkout (35%), then shipping
    (55% of those) and payment (60% of those), 30-90 s apart, with no purchase after."""
    reach = rng.random(left.size)
    out = []
    for k, etype in enumerate(CHECKOUT):
        keep = left & (reach < (0.6, 0.6 * 0.5, 0.6 * 0.5 * 0.55)[k])
        for rows, t in ((purchases, purchases["t"] - 45.0 + 15.0 * k),
                        ({c: v[keep] for c, v in carts.items()}, carts["t"][keep] + 30.0 * (k + 1))):
            out.append({"t": t, "etype": np.full(t.size, etype), "user": rows["user"],
                        "prod": rows["prod"], "sess": rows["sess"],
                        "qty": np.ones(t.size, dtype=np.int64)})
    return out


def _day_spend(df: pl.DataFrame, day: date, rng: np.random.Generator) -> pl.DataFrame:
    """A day's spend per paid channel (as analytics.channel_attribution names channels): a cost
    per visitor with +-20% noise, or a flat daily cost (email)."""
    visitors = df.filter(pl.col("utm_source").is_not_null()).group_by("utm_source", "utm_medium").agg(
        pl.col("user_id").n_unique().alias("n"))
    n = {(r["utm_source"], r["utm_medium"]): r["n"] for r in visitors.iter_rows(named=True)}
    rows = [(f"{c[0]} / {c[1]}", (c[6] * n.get((c[0], c[1]), 0.0) + c[7]) * rng.uniform(0.8, 1.2))
            for c in CHANNELS if c[0] and (c[6] or c[7])]
    return pl.DataFrame({"date": [day.isoformat()] * len(rows), "channel": [r[0] for r in rows],
                         "spend": [round(r[1], 2) for r in rows]})


def _calendar(shop: Shop, first: date, days: int) -> pl.DataFrame:
    """The shop's promotions (one row per day and category) and its closed day, in the format
    ml/sales_forecasts reads from calendar*.csv."""
    rows = [((first + timedelta(days=d)).isoformat(), "promotion", CATEGORIES[c])
            for c, lo, hi in shop.promos for d in range(lo, min(hi, days - 1) + 1)]
    if 0 <= shop.closed < days:
        rows.append(((first + timedelta(days=shop.closed)).isoformat(), "closed", None))
    return pl.DataFrame(rows, schema={"date": pl.String, "kind": pl.String, "category": pl.String},
                        orient="row").sort("date")


def _hour_profile() -> np.ndarray:
    h = np.arange(24)
    p = 0.3 + np.exp(-((h - 20) ** 2) / 18.0) + 0.5 * np.exp(-((h - 12) ** 2) / 8.0)
    return p / p.sum()


def add_dirt(df: pl.DataFrame, per_kind: int, rng: np.random.Generator) -> pl.DataFrame:
    """Append `per_kind` broken copies of random rows for each quarantine reason."""
    if per_kind <= 0 or df.is_empty():
        return df
    picks = {k: df.sample(per_kind, with_replacement=True, seed=int(rng.integers(1 << 31)))
             for k in DIRTY_KINDS}
    fixes = {
        "missing_user": [pl.lit(None, pl.String).alias("user_id")],
        "missing_product": [pl.lit(None, pl.String).alias("product_id")],
        "bad_timestamp": [pl.lit("not a time").alias("event_time")],
        "out_of_range_date": [pl.lit("1999-01-01T10:00:00.000Z").alias("event_time")],
        "bad_price": [pl.lit("1,99").alias("price")],
        "unknown_event_type": [pl.lit("teleport").alias("event_type")],
        "bad_quantity": [pl.lit("-3").alias("quantity")],
        "duplicate": [],
    }
    dirty = [
        picks[k].with_columns(
            *fixes[k],
            *([] if k == "duplicate" else [(pl.col("event_id") + f"-{k}").alias("event_id")]),
        )
        for k in DIRTY_KINDS
    ]
    return pl.concat([df, *dirty])


def generate(
    out_dir: str | Path, days: int, users: int, events_per_day: int, seed: int = 7,
    start: date | None = None, dirty_per_kind: int = 3, taste: bool = True,
    marketing: bool = False,
) -> list[Path]:
    """Write one CSV per open day (none on the closed holiday) and the bad actors' ground truth;
    with `marketing`, the channels, devices, countries, checkout steps, `marketing_spend.csv` and
    `calendar.csv` too. Returns the event files' paths."""
    if days < 1 or users < 1 or events_per_day < 1:
        raise ValueError("days, users and events per day must be positive")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    first = start or (date.today() - timedelta(days=days))
    shop = make_shop(days, first, users, rng, taste)
    mk = make_marketing(shop, seed) if marketing else None
    paths, spend = [], []
    for d in range(days):
        day = first + timedelta(days=d)
        if d == shop.closed:
            continue
        n = max(1, int(events_per_day * day_factor(shop, d, day, rng)))
        events = day_events(shop, d, day, n, rng, mk)
        if mk is not None:
            spend.append(_day_spend(events, day, mk.rng))
        path = out / f"events_{day.isoformat()}.csv"
        add_dirt(events, dirty_per_kind, rng).write_csv(path)
        paths.append(path)
    if spend:
        pl.concat(spend).write_csv(out / SPEND)
    if mk is not None:
        _calendar(shop, first, days).write_csv(out / CALENDAR)
    truth = out / TRUTH
    truth.parent.mkdir(exist_ok=True)
    kinds = [("scraper", shop.scrapers), ("card_tester", shop.testers), ("reseller", shop.resellers)]
    pl.DataFrame({
        "user_id": [shop.user_id[int(u)] for _, us in kinds for u in us
                    if any(d != shop.closed for d in shop.bad_days[int(u)])],
        "kind": [k for k, us in kinds for u in us
                 if any(d != shop.closed for d in shop.bad_days[int(u)])],
    }).write_csv(truth)
    return paths
