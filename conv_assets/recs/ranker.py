"""The learned re-ranker: LightGBM's lambdarank over the union of the candidates' top lists.

For each user, the candidates are the first RANK_DEPTH items of every base list of the task;
each (user, item) pair gets the features below and the ranker orders them. It is trained on
the window before validation (candidates fitted on the events before it, labels = what the
user bought in it), its number of trees chosen by early stopping on validation users, and
scored out of fold there (trees chosen on one half of the validation users, scored on the
other), so its validation figures compete with the other models on the same footing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from joblib import cpu_count

from conv_assets.recs.models import RRF_K, Fusion, Trained, _at, ranked, top_n

RANKER = "ranker"
RANK_DEPTH = 50        # ranks of each candidate list the ranker re-orders
MAX_TREES = 400        # early stopping on validation picks how many are used
EARLY_STOP = 30        # rounds without a better validation ndcg@10 before stopping
PAIR_FEATURES = ("in_lists", "rrf_sum", "popularity", "popularity_7d", "user_weight", "buy_again_score",
                 "days_since_interaction", "category_share", "price_vs_user")


@dataclass
class Context:
    """A training window's inputs to the ranker's features beyond the fitted candidates."""
    since: sp.csr_matrix   # users x items: days from the last interaction to the cutoff, + 1
    pop_7d: np.ndarray     # per item: buyers in the 7 days before the cutoff / the most any item has
    price: np.ndarray      # per item: median unit price in the window (NaN: none)


def feature_names(models: tuple[str, ...]) -> list[str]:
    return [f"rank_{m}" for m in models] + list(PAIR_FEATURES)


def candidates(t: Trained, ctx: Context, lists: dict[str, np.ndarray], rows: np.ndarray,
               models: tuple[str, ...]):
    """The pairs to rank and their features. `lists`: each model's top list (users x depth, in
    the order of `rows`, the users' matrix rows). Returns (fusion, r, c, X): pair i is user
    position r[i] and item fusion.items[r[i], c[i]]; X (pairs x features, float32, NaN where a
    feature does not apply): each list's rank of the item (RANK_DEPTH + 1 when it is not in
    that list's first RANK_DEPTH), how many lists hold it, the sum of its reciprocal ranks
    (1 / (RRF_K + rank), the blend with equal weights), its popularity over 28 and 7 days,
    the user's decayed interaction weight with it, its buy_again score, the days since the
    user's last interaction with it, the user's share of weight in its category, and its price
    over the user's usual price (weighted mean price of the items the user interacted with)."""
    f = Fusion({m: lists[m][:, :RANK_DEPTH] for m in models}, t.matrix.shape[1])
    r, c = np.nonzero(f.items >= 0)
    items, users = f.items[r, c], rows[r]
    rrf = f.rrf[r, c]
    rank = np.where(rrf > 0, np.rint(1.0 / np.maximum(rrf, 1e-12) - RRF_K), RANK_DEPTH + 1)
    since = _at(ctx.since, users, items).astype(np.float32)
    cat = t.item_cat[items] if t.item_cat is not None else np.full(len(items), -1)
    share = (np.where(cat >= 0, _at(t.user_cat, users, np.maximum(cat, 0)), np.nan)
             if t.user_cat is not None else np.full(len(items), np.nan))
    # The user's usual price, once per user (not per pair): weighted mean over priced items.
    priced = np.isfinite(ctx.price)
    m = t.matrix[rows]
    w_sum = m @ priced.astype(np.float64)
    usual = (m @ np.where(priced, ctx.price, 0.0)) / np.where(w_sum > 0, w_sum, np.nan)
    again = (_at(t.again, users, items) if t.again is not None else np.zeros(len(items)))
    X = np.column_stack([
        rank, (rrf > 0).sum(axis=1), rrf.sum(axis=1), t.pop[items], ctx.pop_7d[items], _at(t.matrix, users, items),
        again, np.where(since > 0, since - 1, np.nan), share, ctx.price[items] / usual[r],
    ]).astype(np.float32)
    return f, r, c, X


def labels(rel, f: Fusion, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """1 where the pair's item is one the user bought in the window (`rel`: its Relevance)."""
    return rel(f.items)[r, c].astype(np.int32)


def _model(seed: int, trees: int):
    import lightgbm as lgb

    return lgb.LGBMRanker(
        objective="lambdarank", n_estimators=trees, learning_rate=0.05, num_leaves=31,
        min_child_samples=50, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
        lambdarank_truncation_level=20, random_state=seed, deterministic=True,
        force_row_wise=True, n_jobs=cpu_count(), verbose=-1)


def _with_positives(X, y, r):
    """The pairs of users with at least one positive (the others carry no ranking signal),
    and the group sizes (pairs arrive grouped by user)."""
    pos = np.bincount(r, weights=y, minlength=int(r.max(initial=-1)) + 1) > 0
    keep = pos[r]
    return X[keep], y[keep], np.bincount(r[keep])[np.unique(r[keep])]


def fit(train: tuple, seed: int, trees: int = MAX_TREES, valid: tuple | None = None):
    """A lambdarank model on `train` = (X, y, r); with `valid`, stopped early on its ndcg@10.
    Returns (model, trees used); (None, 0) when the training pairs hold no positive."""
    import lightgbm as lgb

    X, y, g = _with_positives(*train)
    if not len(g):
        return None, 0
    model = _model(seed, trees)
    kw = {}
    if valid is not None:
        Xv, yv, gv = _with_positives(*valid)
        if len(gv):
            kw = {"eval_X": (Xv,), "eval_y": (yv,), "eval_group": [gv], "eval_at": [10],
                  "callbacks": [lgb.early_stopping(EARLY_STOP, verbose=False)]}
    model.fit(X, y, group=g, **kw)
    used = model.best_iteration_ if kw and model.best_iteration_ else trees
    return model, int(used)


def rank_with(model, f: Fusion, r: np.ndarray, c: np.ndarray, X: np.ndarray, n: int,
              with_scores: bool = False):
    """Each user's top n of its candidates by the model's score (ties to the lower column)."""
    s = np.full(f.items.shape, -np.inf, dtype=np.float32)
    if len(r):
        s[r, c] = model.predict(X)  # an early-stopped model predicts with its best iteration
    idx = top_n(s, min(n, s.shape[1]))
    vals = np.take_along_axis(s, idx, axis=1)
    ids = np.where(vals > -np.inf, np.take_along_axis(f.items, idx, axis=1), -1)
    return (ids, vals, idx) if with_scores else ids


def crossfit(train: tuple, valid: tuple, f: Fusion, n_users: int, seed: int, n: int = 20):
    """Out-of-fold ranker lists (users x n) for the validation users: the users in two seeded
    halves, each half ranked by a model whose trees were chosen by early stopping on the other
    half. Returns the lists and the trees each half chose."""
    Xv, yv, rv, cv = valid
    half = np.random.default_rng(seed).permutation(n_users) % 2
    out = np.full((n_users, n), -1, dtype=np.int64)
    chosen = []
    for h in (0, 1):
        tune_on = half[rv] != h
        model, used = fit(train, seed, valid=(Xv[tune_on], yv[tune_on], rv[tune_on]))
        if model is None:
            return None, []
        chosen.append(used)
        held = ~tune_on
        ids = rank_with(model, f, rv[held], cv[held], Xv[held], n)
        users = np.flatnonzero(half == h)
        out[users, : ids.shape[1]] = ids[users]
    return out, chosen


def recommend(model, t: Trained, ctx: Context, models: tuple[str, ...], rows: np.ndarray,
              exclude: sp.csr_matrix, n: int):
    """The ranker's top n for `rows`, in blocks of users (the base lists and LightGBM each use
    every core), with each entry's credit: the base model that ranked it highest (for the
    reasons)."""
    out = np.full((len(rows), n), -1, dtype=np.int64)
    vals = np.full((len(rows), n), -np.inf, dtype=np.float32)
    credit = np.zeros((len(rows), n), dtype=np.int64)
    step = 4096
    for s0 in range(0, len(rows), step):
        b = slice(s0, min(s0 + step, len(rows)))
        lists = {m: ranked(t, m, rows[b], exclude[b], RANK_DEPTH) for m in models}
        f, r, c, X = candidates(t, ctx, lists, rows[b], models)
        ids, v, idx = rank_with(model, f, r, c, X, n, with_scores=True)
        out[b, : ids.shape[1]], vals[b, : ids.shape[1]] = ids, v
        credit[b, : ids.shape[1]] = np.take_along_axis(f.rrf, idx[:, :, None], axis=1).argmax(axis=2)
    return out, vals, np.array(models, dtype=object)[credit]
