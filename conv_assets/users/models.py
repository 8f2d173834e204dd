"""User models as plain functions: RFM segments, purchase propensity, suspicious activity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

RFM = ["recency_days", "frequency", "monetary"]
PROPENSITY_FEATURES = [
    "recency_days", "frequency", "monetary", "tenure_days", "days_since_last_event", "views",
    "cart_adds", "purchases", "returns", "view_to_purchase_rate", "distinct_categories",
    "average_basket", "days_since_last_cart", "events_30d", "orders_90d",
]


# --- segments --------------------------------------------------------------------------------

def name_clusters(centroids: list[tuple[float, float, float]]) -> list[str]:
    """Human-readable names from (recency, frequency, monetary) centroids.

    A cluster is *recent* when its recency is at most the median of the centroids' recencies,
    *frequent* when its frequency is above their median. Then: recent and frequent -> champions
    (highest monetary), loyal; recent only -> new (lowest frequency), promising; frequent only
    -> at risk; neither -> hibernating (longest ago), about to sleep. Names depend only on the
    centroids, never on cluster numbers, so a label keeps its meaning between runs.
    """
    if len(centroids) == 1:
        return ["all customers"]
    r = np.array([c[0] for c in centroids], dtype=float)
    f = np.array([c[1] for c in centroids], dtype=float)
    m = np.array([c[2] for c in centroids], dtype=float)
    recent = r <= np.median(r)
    frequent = f > np.median(f)
    if not frequent.any():  # all frequencies equal: split on monetary instead
        frequent = m > np.median(m)
    names = [""] * len(centroids)
    groups = [
        (recent & frequent, -m, ["champions", "loyal"]),
        (recent & ~frequent, f, ["new", "promising"]),
        (~recent & frequent, -m, ["at risk", "cannot lose"]),
        (~recent & ~frequent, -r, ["hibernating", "about to sleep"]),
    ]
    for mask, key, labels in groups:
        idx = [int(i) for i in np.flatnonzero(mask)]
        idx.sort(key=lambda i: (key[i], i))
        for rank, i in enumerate(idx):
            base = labels[min(rank, len(labels) - 1)]
            extra = rank - len(labels) + 1
            names[i] = base if extra <= 0 else f"{base} {extra + 1}"
    return names


@dataclass
class Segmentation:
    labels: pl.DataFrame  # user_id, segment, cluster, recency_days, frequency, monetary
    k: int
    silhouettes: dict[int, float] = field(default_factory=dict)


def segment_users(features: pl.DataFrame, k_min: int = 3, k_max: int = 6, seed: int = 0) -> Segmentation:
    """k-means on scaled log1p(RFM) of users with an order; k in [k_min, k_max] by silhouette.

    Rows are sorted by user_id first, so the result does not depend on row order. Fewer
    distinct users than k, or identical rows, shrink k (one distinct row: one segment).
    Users without orders are 'prospects' (cluster -1).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    feats = features.sort("user_id")
    buyers = feats.filter(pl.col("frequency") > 0)
    prospects = feats.filter(pl.col("frequency") == 0).select(
        "user_id", pl.lit("prospects").alias("segment"), pl.lit(-1).alias("cluster"),
        *[pl.col(c) for c in RFM])
    if buyers.is_empty():
        return Segmentation(prospects, 0)
    raw = buyers.select(RFM).fill_null(0).to_numpy().astype(float)
    x = np.log1p(np.maximum(raw, 0))
    distinct = len(np.unique(x, axis=0))
    silhouettes: dict[int, float] = {}
    with threadpool_limits(1):
        if distinct == 1:
            labels, centroids = np.zeros(len(x), dtype=int), [tuple(raw.mean(axis=0))]
        else:
            xs = StandardScaler().fit_transform(x)
            ks = [k for k in range(max(2, k_min), min(k_max, distinct - 1) + 1)] or [2]
            best = None
            for k in ks:
                km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(xs)
                if 2 <= len(set(km.labels_)) < len(xs):
                    score = float(silhouette_score(xs, km.labels_, sample_size=min(10_000, len(xs)),
                                                   random_state=seed))
                else:
                    score = -1.0
                silhouettes[k] = score
                if best is None or score > best[0]:
                    best = (score, k, km)
            _, k, km = best
            labels = km.labels_
            centroids = [tuple(raw[labels == c].mean(axis=0)) for c in range(k)]
    names = name_clusters(centroids)
    out = buyers.select("user_id", *RFM).with_columns(
        pl.Series("cluster", labels.astype(np.int32)),
        pl.Series("segment", [names[c] for c in labels]),
    ).select("user_id", "segment", "cluster", *RFM)
    return Segmentation(pl.concat([out, prospects.cast(out.schema)]), len(centroids), silhouettes)


# --- propensity ------------------------------------------------------------------------------

@dataclass
class Propensity:
    scores: pl.DataFrame  # user_id, score
    model: str
    metrics: dict


def propensity_cutoffs(first_day: date, last_day: date, horizon: int = 7, n_train: int = 22,
                       n_test: int = 2) -> tuple[list[date], list[date]]:
    """Weekly training and test cutoffs whose label windows lie inside the complete history.

    The latest complete day is last_day - 1; a cutoff c is labelled by purchases in
    [c, c + horizon). Test cutoffs are the latest such; training cutoffs come before them and
    their label windows end no later than the first test cutoff (no overlap, no leakage).
    """
    latest = last_day - timedelta(days=horizon)
    tests = [latest - timedelta(days=7 * i) for i in range(n_test)][::-1]
    trains = []
    c = tests[0] - timedelta(days=max(7, horizon))
    while len(trains) < n_train and c >= first_day + timedelta(days=28):
        trains.append(c)
        c -= timedelta(days=7)
    return trains[::-1], tests


def _xy(frames: list[tuple[pl.DataFrame, set]], columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for feats, buyers in frames:
        xs.append(feats.select(columns).cast(pl.Float64).to_numpy())
        ys.append(feats["user_id"].is_in(list(buyers)).to_numpy().astype(int))
    return np.vstack(xs), np.concatenate(ys)


def informative(frames: list[pl.DataFrame]) -> list[str]:
    """Features with at least two distinct values (a source without carts has none to learn)."""
    both = pl.concat([f.select(PROPENSITY_FEATURES).cast(pl.Float64) for f in frames])
    return [c for c in PROPENSITY_FEATURES if both[c].drop_nulls().n_unique() >= 2]


def recency_score(feats: pl.DataFrame) -> np.ndarray:
    """The baseline: more recent buyers first (users who never bought last)."""
    r = feats["recency_days"].cast(pl.Float64).fill_null(1e6).to_numpy()
    return 1.0 / (1.0 + r)


def top_decile_precision(y: np.ndarray, score: np.ndarray) -> float:
    n = max(1, int(np.ceil(len(y) * 0.1)))
    order = np.argsort(-score, kind="stable")
    return float(y[order[:n]].mean())


def train_propensity(
    features_at: Callable[[date], pl.DataFrame], buyers_in: Callable[[date], set],
    first_day: date, last_day: date, horizon: int = 7, seed: int = 0,
) -> Propensity:
    """Gradient boosting on features at weekly cutoffs; evaluated on the latest labelled cutoffs
    against the recency-only baseline; refitted on all labelled cutoffs to score last_day."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    current = features_at(last_day)
    trains, tests = propensity_cutoffs(first_day, last_day, horizon)
    train = [(features_at(c), buyers_in(c)) for c in trains]
    test = [(features_at(c), buyers_in(c)) for c in tests]
    metrics: dict = {"train_cutoffs": [str(c) for c in trains], "test_cutoffs": [str(c) for c in tests],
                     "horizon_days": horizon}
    usable = bool(trains) and all(f.height for f, _ in train + test)
    if usable:
        columns = informative([f for f, _ in train])
        metrics["features"] = columns
        x_tr, y_tr = _xy(train, columns)
        x_te, y_te = _xy(test, columns)
        usable = bool(columns) and len(set(y_tr)) == 2 and len(set(y_te)) == 2
    if not usable:
        metrics["fallback"] = (
            f"not enough labelled history to train ({(last_day - first_day).days} days, "
            f"{len(trains)} training cutoffs): scores are the recency baseline")
        return Propensity(current.select("user_id", pl.Series("score", recency_score(current))),
                          "recency_baseline", metrics)

    def model() -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                              l2_regularization=1.0, early_stopping=False,
                                              random_state=seed)

    with threadpool_limits(1):
        clf = model().fit(x_tr, y_tr)
        p_te = clf.predict_proba(x_te)[:, 1]
        base_te = np.concatenate([recency_score(f) for f, _ in test])
        metrics |= {
            "test_users": int(len(y_te)), "test_base_rate": float(y_te.mean()),
            "roc_auc": float(roc_auc_score(y_te, p_te)),
            "roc_auc_recency_baseline": float(roc_auc_score(y_te, base_te)),
            "top_decile_precision": top_decile_precision(y_te, p_te),
            "top_decile_precision_recency_baseline": top_decile_precision(y_te, base_te),
        }
        x_all, y_all = _xy(train + test, columns)
        final = model().fit(x_all, y_all)
        scores = final.predict_proba(current.select(columns).cast(pl.Float64).to_numpy())[:, 1]
    return Propensity(current.select("user_id", pl.Series("score", scores)), "gradient_boosting",
                      metrics)


# --- suspicious activity ---------------------------------------------------------------------

BURST_PER_MINUTE = 30       # events in one minute
HUGE_SESSION = 500          # events in one session
MANY_VIEWS = 200            # views with no cart add or purchase ever
ORDER_OUTLIER = 10.0        # x the 95th percentile of users' largest orders (units or value)
MANY_RETURNS = 5            # returns, and at least half as many as purchases
# The forest sees how a user behaves, not how much: volumes would make the busiest honest
# customers the "outliers".
BEHAVIOUR = {
    "max_events_per_minute": pl.col("max_events_per_minute"),
    "max_session_events": pl.col("max_session_events"),
    "events_per_active_day": pl.col("events") / pl.col("active_days").clip(1),
    "views_per_cart_or_purchase": pl.col("views") / (pl.col("carts_or_purchases") + 1),
    "returns_per_purchase": pl.col("returns") / (pl.col("purchases") + 1),
    "orders_per_active_day": pl.col("orders") / pl.col("active_days").clip(1),
    "max_order_units": pl.col("max_order_units"),
    "max_order_value": pl.col("max_order_value"),
}


def score_suspicious(profile: pl.DataFrame, seed: int = 0) -> pl.DataFrame:
    """Rules flag; an IsolationForest over behaviour rates scores every user, and its top 1%
    outliers get the reason `isolation_forest` for review. A model outlier alone is not flagged:
    flagging (and CONV_EXCLUDE_SUSPICIOUS) needs a rule."""
    from sklearn.ensemble import IsolationForest

    p = profile.sort("user_id")
    units_cut = max(100.0, ORDER_OUTLIER * float(p["max_order_units"].quantile(0.95) or 0))
    value_cut = ORDER_OUTLIER * float(p["max_order_value"].quantile(0.95) or 0)
    rules = {
        "event_burst": pl.col("max_events_per_minute") >= BURST_PER_MINUTE,
        "huge_session": pl.col("max_session_events") >= HUGE_SESSION,
        "many_views_no_cart": (pl.col("views") >= MANY_VIEWS) & (pl.col("carts_or_purchases") == 0),
        "abnormal_order_size": pl.col("max_order_units") >= units_cut,
        "abnormal_order_value": (pl.col("max_order_value") >= value_cut) & (pl.lit(value_cut) > 0),
        "many_returns": (pl.col("returns") >= MANY_RETURNS)
        & (pl.col("returns") >= 0.5 * pl.col("purchases")),
    }
    if p.height >= 20:
        x = np.log1p(p.select(**BEHAVIOUR).fill_null(0).cast(pl.Float64).to_numpy().clip(min=0))
        with threadpool_limits(1):
            forest = IsolationForest(n_estimators=200, random_state=seed).fit(x)
            score = -forest.score_samples(x)
            outlier = forest.predict(x) == -1
        top = score >= np.quantile(score, 0.99)
        p = p.with_columns(pl.Series("anomaly_score", score),
                           pl.Series("model_flag", outlier & top))
    else:
        p = p.with_columns(pl.lit(None, pl.Float64).alias("anomaly_score"),
                           pl.lit(False).alias("model_flag"))
    flagged = pl.any_horizontal(*rules.values())
    reasons = pl.concat_list(
        [pl.when(expr).then(pl.lit(name)) for name, expr in rules.items()]
        + [pl.when(pl.col("model_flag")).then(pl.lit("isolation_forest"))]
    ).list.drop_nulls()
    return p.with_columns(reasons.list.join(",").alias("reasons"), flagged.alias("flagged")).with_columns(
        pl.lit("user").alias("level"),
        pl.lit(None, pl.String).alias("session_id"),
    ).drop("model_flag")
