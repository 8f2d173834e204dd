"""Synthetic landed files in the canonical schema, for the demo, tests and benchmarks.

One CSV per day. Vectorised with numpy: sessions of views over a long-tailed catalogue, some
views become cart adds, some cart adds become purchases (orders), a few purchases are returned;
daily volume has weekly seasonality and a gentle trend. A few dirty rows of each quarantine kind
are added per day, so the cleaning layer always has something to catch.
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
    "food.coffee", "garden.tools",
]
# Weekly volume multipliers, Monday first.
WEEKDAY_FACTOR = np.array([1.0, 0.97, 0.95, 1.0, 1.08, 1.22, 1.15])
DIRTY_KINDS = ("missing_user", "missing_product", "bad_timestamp", "out_of_range_date",
               "bad_price", "unknown_event_type", "bad_quantity", "duplicate")


@dataclass(frozen=True)
class Catalogue:
    product_id: np.ndarray
    category: np.ndarray
    brand: np.ndarray
    price: np.ndarray
    weight: np.ndarray  # popularity, sums to 1


def make_catalogue(n_products: int, rng: np.random.Generator) -> Catalogue:
    ranks = np.arange(1, n_products + 1)
    weight = 1.0 / ranks**1.07
    weight /= weight.sum()
    cat_idx = rng.integers(0, len(CATEGORIES), n_products)
    base = np.exp(rng.normal(3.2, 0.9, n_products))
    cat_scale = np.linspace(0.5, 2.5, len(CATEGORIES))[cat_idx]
    return Catalogue(
        product_id=np.array([f"P{i:06d}" for i in ranks]),
        category=np.array(CATEGORIES)[cat_idx],
        brand=np.array([f"brand{b:03d}" for b in rng.integers(0, 80, n_products)]),
        price=np.round(base * cat_scale, 2),
        weight=weight,
    )


def day_events(
    day: date, n_target: int, n_users: int, cat: Catalogue, rng: np.random.Generator
) -> pl.DataFrame:
    """One day's clean events (before dirt), as canonical columns."""
    # About 5.9 events per session: 5 views, 0.6 carts, 0.27 purchases, a few removes/returns.
    n_sessions = max(1, round(n_target / 5.9))
    # Users: a long tail of activity too, so some users come back often.
    user_w = 1.0 / np.arange(1, n_users + 1) ** 0.6
    users = rng.choice(n_users, n_sessions, p=user_w / user_w.sum())
    # Session starts follow a daily curve peaking in the evening.
    hours = rng.choice(24, n_sessions, p=_hour_profile())
    start = hours * 3600 + rng.integers(0, 3600, n_sessions)
    n_views = np.clip(rng.geometric(1 / 5.0, n_sessions), 1, 60)
    sess = np.repeat(np.arange(n_sessions), n_views)
    gaps = rng.exponential(45.0, sess.size)
    first = np.r_[0, np.cumsum(n_views)[:-1]]
    offs = np.cumsum(gaps)
    offs -= np.repeat(offs[first], n_views)
    t = np.repeat(start, n_views) + offs
    prod = rng.choice(cat.product_id.size, sess.size, p=cat.weight)
    carted = rng.random(sess.size) < 0.12
    c_idx = np.flatnonzero(carted)
    bought = rng.random(c_idx.size) < 0.45
    b_idx = c_idx[bought]
    removed = c_idx[~bought][rng.random((~bought).sum()) < 0.15]
    returned = b_idx[rng.random(b_idx.size) < 0.03]
    qty = np.clip(rng.geometric(0.6, b_idx.size), 1, 12)

    def block(idx: np.ndarray, etype: str, delay: float, q: np.ndarray | None) -> dict:
        return {
            "t": t[idx] + delay + rng.exponential(20.0, idx.size),
            "etype": np.full(idx.size, etype),
            "user": users[sess[idx]],
            "prod": prod[idx],
            "sess": sess[idx],
            "qty": np.ones(idx.size, dtype=np.int64) if q is None else q,
        }

    parts = [
        block(np.arange(sess.size), "view", 0.0, None),
        block(c_idx, "cart", 15.0, None),
        block(removed, "remove_from_cart", 120.0, None),
        block(b_idx, "purchase", 240.0, qty),
        block(returned, "return", 600.0, qty[np.isin(b_idx, returned)]),
    ]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    ms = (np.minimum(cols["t"], 86399.999) * 1000).astype(np.int64)
    stamp = f"{day:%Y%m%d}"
    return (
        pl.DataFrame({
            "ms": ms, "event_type": cols["etype"], "user": cols["user"], "prod": cols["prod"],
            "sess": cols["sess"], "quantity": cols["qty"],
        })
        .sort("ms")
        .with_columns(
            is_order=pl.col("event_type").is_in(["purchase", "return"]),
            event_time=(pl.lit(datetime.combine(day, time())) + pl.duration(milliseconds=pl.col("ms")))
            .dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        )
        .select(
            (pl.lit(f"E{stamp}-") + pl.int_range(pl.len()).cast(pl.String)).alias("event_id"),
            "event_time",
            "event_type",
            (pl.lit("U") + pl.col("user").cast(pl.String)).alias("user_id"),
            pl.lit(None, pl.String).alias("session_id"),
            pl.col("prod").map_batches(lambda s: pl.Series(cat.product_id[s.to_numpy()])).alias("product_id"),
            pl.col("prod").map_batches(lambda s: pl.Series(cat.category[s.to_numpy()])).alias("category"),
            pl.col("prod").map_batches(lambda s: pl.Series(cat.brand[s.to_numpy()])).alias("brand"),
            pl.col("prod").map_batches(lambda s: pl.Series(cat.price[s.to_numpy()])).cast(pl.String).alias("price"),
            pl.col("quantity").cast(pl.String),
            pl.when(pl.col("is_order"))
            .then(pl.lit(f"O{stamp}-") + pl.col("sess").cast(pl.String))
            .alias("order_id"),
        )
    )


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
    start: date | None = None, dirty_per_kind: int = 3,
) -> list[Path]:
    """Write `days` daily CSV files; returns their paths."""
    if days < 1 or users < 1 or events_per_day < 1:
        raise ValueError("days, users and events per day must be positive")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cat = make_catalogue(max(50, min(50_000, users // 2)), rng)
    first = start or (date.today() - timedelta(days=days))
    paths = []
    for d in range(days):
        day = first + timedelta(days=d)
        factor = WEEKDAY_FACTOR[day.weekday()] * (1 + 0.003 * d) * rng.normal(1.0, 0.04)
        df = day_events(day, max(1, int(events_per_day * factor)), users, cat, rng)
        df = add_dirt(df, dirty_per_kind, rng)
        path = out / f"events_{day.isoformat()}.csv"
        df.write_csv(path)
        paths.append(path)
    return paths
