"""Recommendation building blocks over scipy CSR matrices: ALS, baselines, metrics, content.

Rows are users and columns items, both as dense integer indices assigned in SQL; frames arrive
through Arrow, and nothing loops over interactions in Python.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
from joblib import cpu_count
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class AlsParams:
    factors: int = 64
    regularization: float = 0.05
    alpha: float = 1.0
    iterations: int = 15
    seed: int = 42

    @classmethod
    def from_env(cls) -> AlsParams:
        env = os.environ.get
        return cls(
            factors=int(env("CONV_ALS_FACTORS", cls.factors)),
            regularization=float(env("CONV_ALS_REGULARIZATION", cls.regularization)),
            alpha=float(env("CONV_ALS_ALPHA", cls.alpha)),
            iterations=int(env("CONV_ALS_ITERATIONS", cls.iterations)),
            seed=int(env("CONV_ALS_SEED", cls.seed)),
        )


def csr(frame: pl.DataFrame, n_users: int, n_items: int, value: str = "weight") -> sp.csr_matrix:
    """user_index x item_index matrix of `value` (duplicates summed)."""
    m = sp.coo_matrix(
        (frame[value].to_numpy().astype(np.float32),
         (frame["user_index"].to_numpy(), frame["item_index"].to_numpy())),
        shape=(n_users, n_items),
    )
    return m.tocsr()


def fit_als(user_items: sp.csr_matrix, params: AlsParams):
    """implicit's ALS on every core the process may use (joblib's count, which honours CPU
    affinity and container CPU limits) with one BLAS thread (implicit warns, and slows down
    badly, otherwise). Each user's and item's solve is independent of the thread
    count, so a seed repeats the factors."""
    from implicit.cpu.als import AlternatingLeastSquares

    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=params.factors, regularization=params.regularization, alpha=params.alpha,
            iterations=params.iterations, random_state=params.seed, num_threads=cpu_count(),
        )
        model.fit(user_items, show_progress=False)
    return model


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores per row, best first; ties go to the lower index, also at
    the cut (argpartition alone would pick among tied items arbitrarily): every score at least
    the row's n-th highest is a candidate, and the candidates are sorted by row, score and
    index."""
    n = min(n, scores.shape[1])
    if n == 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    s = np.asarray(scores, dtype=np.float32)
    kth = np.partition(s, s.shape[1] - n, axis=1)[:, s.shape[1] - n, None]  # n-th highest
    r, c = np.nonzero(s >= kth)  # at least n per row, more where scores tie at the cut
    order = np.lexsort((c, -s[r, c], r))
    r, c = r[order], c[order]
    keep = np.arange(len(r)) - np.searchsorted(r, r) < n
    return c[keep].reshape(s.shape[0], n).astype(np.int64)


# --- candidates ------------------------------------------------------------------------------

BASE_MODELS = ("als", "item_knn", "popularity", "category_popularity", "co_visitation",
               "buy_again")
# Candidates per task: discovery scores products the user never bought (buy_again, whose
# products are all bought, has nothing to offer there); repeat scores every purchase.
TASK_MODELS = {"discovery": BASE_MODELS[:-1], "repeat": BASE_MODELS}
BLEND = "blend"
RRF_K = 60          # reciprocal rank fusion: a list's item at rank r adds weight / (RRF_K + r)
BLEND_DEPTH = 100   # ranks of each base list the blend looks at


@dataclass
class Trained:
    """The candidate models fitted on one training matrix (users x items)."""
    matrix: sp.csr_matrix
    als: object | None
    knn: sp.csr_matrix | None       # items x items BM25 similarity
    pop: np.ndarray                 # per item, in [0, 1]: trailing-window buyers / max
    user_cat: sp.csr_matrix | None  # users x categories: share of the user's weight
    item_cat: np.ndarray | None     # category index per item
    again: sp.csr_matrix | None = None  # users x items: buy_again's scores of past purchases
    covis: sp.csr_matrix | None = None  # items x items: co_visitation's pair weights

    def models(self, task: str = "discovery") -> tuple[str, ...]:
        """The candidates this training can score for `task`."""
        absent = {"category_popularity": self.user_cat is None,
                  "buy_again": self.again is None or not self.again.nnz,
                  "co_visitation": self.covis is None or not self.covis.nnz}
        return tuple(m for m in TASK_MODELS[task] if not absent.get(m, False))


REPURCHASE_FLOOR = 0.25    # buy_again: the share of a pair's score kept however off-rhythm
DEFAULT_INTERVAL = 30.0    # days, when nobody in the data bought a product twice


def buy_again_scores(days: np.ndarray, span: np.ndarray, since: np.ndarray,
                     item: np.ndarray) -> np.ndarray:
    """buy_again's score per (user, item) pair bought before the cutoff: `days` distinct
    purchase days, `span` = last - first purchase day, `since` = cutoff - last purchase day (>= 1),
    `item` its item index. The pair's interval is its own (span / (days - 1)) where the user has
    bought it again, else the item's median over the pairs that did, else the median over all
    such pairs (DEFAULT_INTERVAL when there are none). Score = days x (REPURCHASE_FLOOR +
    exp(-ln(since / interval)^2 / 2)): highest when the product is due (since = interval),
    decaying on a log scale either side, and larger for products bought on more days."""
    days = days.astype(np.float64)
    repeated = days >= 2
    own = np.where(repeated, span / np.maximum(days - 1, 1), np.nan)
    if repeated.any():
        overall = float(np.median(own[repeated]))
        frame = pl.DataFrame({"item": item[repeated], "gap": own[repeated]})
        med = frame.group_by("item").agg(pl.col("gap").median())
        per_item = np.full(int(item.max(initial=0)) + 1, overall)
        per_item[med["item"].to_numpy()] = med["gap"].to_numpy()
        interval = np.where(repeated, own, per_item[item])
    else:
        interval = np.full(len(days), DEFAULT_INTERVAL)
    interval = np.maximum(interval, 1.0)
    ratio = np.log(np.maximum(since, 1) / interval)
    return (days * (REPURCHASE_FLOOR + np.exp(-0.5 * ratio**2))).astype(np.float32)


COVIS_K = 20  # co_visitation keeps each product's 20 strongest partners


def keep_top_per_row(c: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """`c` with only each row's k largest entries (ties to the lower column)."""
    c = c.tocsr()
    c.sort_indices()
    nnz = np.diff(c.indptr)
    r = np.repeat(np.arange(c.shape[0]), nnz)
    order = np.lexsort((-c.data, r))
    rank = np.arange(len(r)) - c.indptr[r]
    keep = order[rank < k]
    return sp.csr_matrix((c.data[keep], (r[keep], c.indices[keep])), shape=c.shape)


def co_visitation_matrix(basket: np.ndarray, item: np.ndarray, weight: np.ndarray, n_items: int,
                         k: int = COVIS_K) -> sp.csr_matrix:
    """items x items: for each pair of distinct products in the same basket (session or order),
    the sum over baskets of the product of their weights (event strength x recency), each
    product's k strongest partners kept. implicit's item-item kNN does the baskets x items
    product on every core, keeping k + 1 per row as it goes (the product itself among them);
    the product itself is then dropped and k kept."""
    from implicit.nearest_neighbours import ItemItemRecommender

    if not len(basket):
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    b = sp.csr_matrix((weight.astype(np.float64), (basket, item)),
                      shape=(int(basket.max()) + 1, n_items))
    knn = ItemItemRecommender(K=k + 1, num_threads=cpu_count())
    knn.fit(b, show_progress=False)
    c = knn.similarity.tocsr()
    c.setdiag(0)
    c.eliminate_zeros()
    return keep_top_per_row(c, k).astype(np.float32)


def train_candidates(m: sp.csr_matrix, params: AlsParams, popularity: np.ndarray,
                     item_cat: np.ndarray | None, knn_k: int = 20, als=None,
                     again: sp.csr_matrix | None = None,
                     covis: sp.csr_matrix | None = None) -> Trained:
    """Fit ALS and BM25 item-kNN on `m`; popularity is given per item (distinct buyers in the
    trailing window); item_cat (category index per item, -1 unknown) enables the per-category
    popularity candidate when the source has at least two categories; `again` (users x items,
    buy_again_scores of each user's past purchases) the buy_again candidate, `covis` (items x
    items, co_visitation_matrix) the co_visitation candidate."""
    from implicit.nearest_neighbours import BM25Recommender

    if als is None and m.nnz:
        als = fit_als(m, params)
    knn = None
    if m.nnz:
        model = BM25Recommender(K=knn_k, num_threads=cpu_count())
        with warnings.catch_warnings():  # implicit converts its own BM25-weighted COO to CSR
            warnings.simplefilter("ignore")
            model.fit(m, show_progress=False)
        knn = model.similarity.tocsr()
    pop = popularity.astype(np.float32)
    pop = pop / pop.max() if pop.size and pop.max() > 0 else np.zeros(m.shape[1], np.float32)
    user_cat = user_categories(m, item_cat)
    return Trained(m, als, knn, pop, user_cat, item_cat if user_cat is not None else None, again,
                   covis)


def user_categories(m: sp.csr_matrix, item_cat: np.ndarray | None) -> sp.csr_matrix | None:
    """Users x categories: each user's share of weight per category; None unless the items
    (category index per item, -1 unknown) span at least two categories."""
    if item_cat is None or len(set(item_cat[item_cat >= 0].tolist())) < 2:
        return None
    known = item_cat >= 0
    onehot = sp.csr_matrix((np.ones(known.sum(), np.float32),
                            (np.flatnonzero(known), item_cat[known])),
                           shape=(m.shape[1], int(item_cat.max()) + 1))
    totals = m @ onehot
    sums = np.asarray(totals.sum(axis=1)).ravel()
    return sp.diags(1.0 / np.where(sums > 0, sums, 1)).dot(totals).tocsr().astype(np.float32)


def on_every_core(block, starts) -> None:
    """block(start) for every start, on a thread per core: the blocks below spend their time in
    numpy, scipy and BLAS (one thread each), which release the GIL. Errors are raised here.
    A core is one the process may use (joblib's count: CPU affinity and container limits)."""
    with ThreadPoolExecutor(cpu_count()) as pool:
        list(pool.map(block, starts))


def _fill(t: Trained, model: str) -> tuple[np.ndarray, np.ndarray]:
    """Items in the order they fill a list after the ones a model scores, and their scores: by
    popularity, ties to the lower index. The popularity model's score is pop; the others' fill
    is pop - 2, below every real score."""
    score = t.pop if model == "popularity" else (t.pop - np.float32(2.0)).astype(np.float32)
    return np.argsort(-score, kind="stable"), score


def _category_tops(t: Trained, depth: int) -> np.ndarray:
    """Each category's `depth` most popular items (categories x depth, -1 pads), ties to the
    lower index: within a category, category_popularity orders items by popularity."""
    order = np.argsort(-t.pop, kind="stable")
    cats = t.item_cat[order]
    order, cats = order[cats >= 0], cats[cats >= 0]
    by_cat = np.lexsort((np.arange(len(cats)), cats))
    order, cats = order[by_cat], cats[by_cat]
    rank = np.arange(len(cats)) - np.searchsorted(cats, cats)
    tops = np.full((int(t.item_cat.max()) + 1, depth), -1, dtype=np.int64)
    keep = rank < depth
    tops[cats[keep], rank[keep]] = order[keep]
    return tops


def _scored(t: Trained, model: str, rows: np.ndarray, depths: np.ndarray,
            tops: np.ndarray | None) -> sp.csr_matrix:
    """The positive scores a model gives `rows` (CSR, float32), before its fill: item_knn's
    neighbour scores; co_visitation's: the user's weights x the products' pair weights;
    buy_again's repurchase scores; category_popularity's share of the user's weight in a category x (1 +
    popularity), over the row's `depths` most popular items of each of the user's categories
    (enough for its top n with its exclusions); none for popularity."""
    shape = (len(rows), t.matrix.shape[1])
    if model in ("item_knn", "co_visitation"):
        s = (t.matrix[rows] @ (t.knn if model == "item_knn" else t.covis)).tocsr()
        s.data = s.data.astype(np.float32)
    elif model == "buy_again":
        s = t.again[rows].tocsr().astype(np.float32)
    elif model == "category_popularity":
        uc = t.user_cat[rows].tocoo()
        r, cat, share = uc.row, uc.col, uc.data.astype(np.float32)
        items = tops[cat, : depths.max(initial=0)]
        keep = (items >= 0) & (np.arange(items.shape[1]) < depths[r][:, None])
        c = items[keep]
        counts = keep.sum(axis=1)
        v = np.repeat(share, counts) * (np.float32(1.0) + t.pop[c])
        s = sp.csr_matrix((v, (np.repeat(r, counts), c)), shape=shape)
    else:
        return sp.csr_matrix(shape, dtype=np.float32)
    s.data[s.data <= 0] = 0
    s.eliminate_zeros()
    return s


def _top_then_fill(s: sp.csr_matrix, ex: sp.csr_matrix, order: np.ndarray, score: np.ndarray,
                   n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the n best of the scored entries `s` (score descending, ties to the lower item),
    then the fill (`order`, with `score`) up to n; exclusions `ex` removed from both; -1 / -inf
    pad when the catalogue runs out."""
    m = s.shape[0]
    if ex.nnz:
        s = (s - s.multiply(ex > 0)).tocsr()
        s.eliminate_zeros()
    s.sort_indices()
    nnz = np.diff(s.indptr)
    r = np.repeat(np.arange(m), nnz)
    by_score = np.lexsort((-s.data, r))  # stable: equal scores keep the lower item first
    rank = np.arange(len(r)) - s.indptr[r]
    keep = rank < n
    ids = np.full((m, n), -1, dtype=np.int64)
    vals = np.full((m, n), -np.inf, dtype=np.float32)
    ids[r[keep], rank[keep]] = s.indices[by_score][keep]
    vals[r[keep], rank[keep]] = s.data[by_score][keep]
    k = np.minimum(nnz, n)
    short = np.flatnonzero(k < n)
    if short.size:
        # The fill skips a row's scored and excluded items, so its first n + exclusions
        # popular items are enough.
        top = order[: n + int(ex.getnnz(axis=1)[short].max(initial=0))]
        rank_of = np.full(s.shape[1], len(top), dtype=np.int64)
        rank_of[top] = np.arange(len(top))
        taken = np.zeros((m, len(top)), dtype=bool)
        for mat in (s, ex):
            rr = np.repeat(np.arange(m), np.diff(mat.indptr))
            rk = rank_of[mat.indices]
            taken[rr[rk < len(top)], rk[rk < len(top)]] = True
        free = ~taken[short]
        seen = np.cumsum(free, axis=1)
        tr, tp = np.nonzero(free & (seen <= (n - k[short])[:, None]))
        slot = k[short][tr] + seen[tr, tp] - 1
        ids[short[tr], slot] = top[tp]
        vals[short[tr], slot] = score[top[tp]]
    return ids, vals


def _als_top(t: Trained, rows: np.ndarray, exclude: sp.csr_matrix, n: int):
    """implicit's own top-k (C++, every core) over ALS scores, exclusions filtered there."""
    from implicit.cpu.topk import topk

    with threadpool_limits(1, "blas"):
        ids, scores = topk(np.ascontiguousarray(t.als.item_factors, dtype=np.float32),
                           np.ascontiguousarray(t.als.user_factors[rows], dtype=np.float32), n,
                           filter_query_items=exclude.tocsr().astype(np.float32), num_threads=cpu_count())
    scores = np.where(scores <= np.finfo(np.float32).min, -np.inf, scores).astype(np.float32)
    return np.where(scores > -np.inf, ids, -1).astype(np.int64), scores


def ranked(t: Trained, model: str, rows: np.ndarray, exclude: sp.csr_matrix, n: int,
           with_scores: bool = False):
    """Top-n item indices per user row for a base model, `exclude` (one row per entry of rows)
    removed; -1 pads when fewer items are left. ALS through implicit's top-k; the others in blocks
    of users, from the sparse scores that can reach their top n, never users x catalogue."""
    n = min(n, t.matrix.shape[1])
    if model == "als":
        ids, vals = _als_top(t, rows, exclude, n)
        return (ids, vals) if with_scores else ids
    exclude = exclude.tocsr()
    depths = n + exclude.getnnz(axis=1)
    order, score = _fill(t, model)
    tops = _category_tops(t, int(depths.max(initial=0))) if model == "category_popularity" else None
    out = np.full((len(rows), n), -1, dtype=np.int64)
    vals = np.full((len(rows), n), -np.inf, dtype=np.float32)
    step = 1024

    def block(s0: int) -> None:
        b = slice(s0, min(s0 + step, len(rows)))
        scored = _scored(t, model, rows[b], depths[b], tops)
        out[b], vals[b] = _top_then_fill(scored, exclude[b], order, score, n)

    on_every_core(block, range(0, len(rows), step))
    return (out, vals) if with_scores else out


class Fusion:
    """Weighted reciprocal-rank fusion of base lists (users x depth item indices, -1 = none).
    Built once; `top(weights, n)` is cheap, so weights can be searched."""

    def __init__(self, lists: dict[str, np.ndarray], n_items: int):
        self.models = list(lists)
        allv = np.concatenate([lists[m] for m in self.models], axis=1)
        allv = np.where(allv < 0, n_items, allv)
        order = np.argsort(allv, axis=1, kind="stable")
        items = np.take_along_axis(allv, order, axis=1)  # each user's items, sorted
        dup = np.zeros(items.shape, dtype=bool)
        dup[:, 1:] = items[:, 1:] == items[:, :-1]
        self.missing = dup | (items == n_items)
        self.items = np.where(self.missing, -1, items)  # an item once, at the first of its run
        # Each entry's list and rank in it, credited to the first column of its item's run.
        starts = np.cumsum([0] + [lists[m].shape[1] for m in self.models])
        model = np.searchsorted(starts, order, side="right") - 1
        rank = order - starts[model]
        cols = np.arange(items.shape[1])
        first = np.maximum.accumulate(np.where(dup, 0, cols[None, :]), axis=1)
        ok = items < n_items
        users = np.broadcast_to(np.arange(items.shape[0])[:, None], items.shape)
        self.rrf = np.zeros((*items.shape, len(self.models)), dtype=np.float32)
        self.rrf[users[ok], first[ok], model[ok]] = 1.0 / (RRF_K + 1 + rank[ok])

    def top(self, weights: dict[str, float], n: int, with_scores: bool = False,
            with_credit: bool = False):
        """Top n items per user (with their fused scores; with the list that adds most to each,
        as an index into self.models)."""
        w = np.array([weights.get(m, 0.0) for m in self.models], dtype=np.float32)
        s = self.rrf @ w
        np.copyto(s, -np.inf, where=self.missing | (s <= 0))
        idx = top_n(s, n)
        vals = np.take_along_axis(s, idx, axis=1)
        ids = np.where(vals > -np.inf, np.take_along_axis(self.items, idx, axis=1), -1)
        if with_credit:
            parts = np.take_along_axis(self.rrf, idx[:, :, None], axis=1) * w
            return ids, vals, parts.argmax(axis=2)
        return (ids, vals) if with_scores else ids


def blend(lists: dict[str, np.ndarray], weights: dict[str, float], n_items: int, n: int,
          with_scores: bool = False):
    """The blend's top n from the base models' top-BLEND_DEPTH `lists`: the weighted fusion of
    the lists whose weight is positive."""
    used = {m: v for m, v in lists.items() if weights.get(m, 0) > 0}
    return Fusion(used, n_items).top(weights, n, with_scores)


def recommend(t: Trained, model: str, weights: dict[str, float], rows: np.ndarray,
              exclude: sp.csr_matrix, n: int, with_scores: bool = False, task: str = "discovery",
              with_credit: bool = False):
    """Top-n of a base model, or of the blend: the weighted fusion of the base models'
    top-BLEND_DEPTH lists (the `task`'s candidates). Batched. `with_credit` adds, per entry,
    the base model behind it (for the blend, the list that adds most to its score)."""
    if model != BLEND:
        got = ranked(t, model, rows, exclude, n, with_scores or with_credit)
        if not with_credit:
            return got
        return *got, np.full(got[0].shape, model, dtype=object)
    used = [m for m in t.models(task) if weights.get(m, 0) > 0]
    n = min(n, t.matrix.shape[1])
    out = np.full((len(rows), n), -1, dtype=np.int64)
    vals = np.full((len(rows), n), -np.inf, dtype=np.float32)
    credit = np.full((len(rows), n), 0, dtype=np.int64)
    step = 4096

    def block(s: int) -> None:
        b = slice(s, min(s + step, len(rows)))
        lists = {m: ranked(t, m, rows[b], exclude[b], BLEND_DEPTH) for m in used}
        fusion = Fusion(lists, t.matrix.shape[1])
        out[b], vals[b], credit[b] = fusion.top(weights, n, with_credit=True)

    on_every_core(block, range(0, len(rows), step))
    if with_credit:
        return out, vals, np.array(used, dtype=object)[credit]
    return (out, vals) if with_scores else out


def _row_best(c: sp.csr_matrix, skip: np.ndarray) -> np.ndarray:
    """Per row of `c`, the column of its largest positive entry other than the row's `skip`
    column (ties to the lower column), -1 where it has none."""
    c = c.tocsr()
    rows_of = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    c.data[(c.indices == skip[rows_of]) | (c.data < 0)] = 0
    c.eliminate_zeros()
    top = keep_top_per_row(c, 1)
    best = np.full(c.shape[0], -1, dtype=np.int64)
    best[np.repeat(np.arange(c.shape[0]), np.diff(top.indptr))] = top.indices
    return best


def _at(m: sp.csr_matrix, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """m[r[i], c[i]] for each i, as a flat array (scipy's pair indexing needs at least one)."""
    return np.asarray(m[r, c]).ravel() if len(r) else np.zeros(0, dtype=m.dtype)


EXPLAIN_BLOCK = 8192  # recommended entries explained at a time


def _because(t: Trained, model: str, users: np.ndarray, items: np.ndarray,
             sim_t: sp.csr_matrix | None) -> np.ndarray:
    """For each entry (user, recommended item), the user's other item that adds most to the
    item's score under `model` (item_knn, co_visitation: `sim_t` its similarity transposed; als),
    -1 where none does."""
    if model == "als":
        mu = t.matrix[users].tocsr()
        y = np.asarray(t.als.item_factors, dtype=np.float32)
        e = np.repeat(np.arange(len(users)), np.diff(mu.indptr))
        agree = (y[mu.indices] * y[items[e]]).sum(axis=1)
        c = sp.csr_matrix((mu.data * agree, mu.indices, mu.indptr), shape=mu.shape)
        return _row_best(c, items)
    return _row_best(t.matrix[users].multiply(sim_t[items]), items)


def explain(t: Trained, credit: np.ndarray, rows: np.ndarray, ids: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Why each recommended item (`ids`, users x n, -1 = none) is there, from the base model
    behind it (`credit`): reason per entry and the user's own item behind it (-1 = none).
    An item the user bought before is buy_again (because: itself), whichever model put it
    there. Otherwise item_knn (similar_to) and co_visitation (bought_together): the user's
    other item j with the largest weight x similarity(j, item), or x pair weight; ALS: the user's other item with the largest confidence x dot product of their item
    factors (a stand-in for implicit's explain, which solves a system per user);
    category_popularity: popular_in_category when the user buys in its category; and popular
    where the model's own score does not reach the item (its popularity fill)."""
    reason = np.full(ids.shape, "popular", dtype=object)
    because = np.full(ids.shape, -1, dtype=np.int64)
    r_all = np.broadcast_to(np.arange(len(rows))[:, None], ids.shape)
    for model in set(credit[ids >= 0].tolist()):
        mask = (credit == model) & (ids >= 0)
        r, items = r_all[mask], ids[mask]
        users = rows[r]
        if model in ("item_knn", "co_visitation") or (model == "als" and t.als is not None):
            best = np.full(len(items), -1, dtype=np.int64)
            sim = {"item_knn": t.knn, "co_visitation": t.covis}.get(model)
            sim_t = sim.T.tocsr() if sim is not None else None

            def block(s0: int, model=model, users=users, items=items, best=best, sim_t=sim_t) -> None:
                b = slice(s0, min(s0 + EXPLAIN_BLOCK, len(items)))
                best[b] = _because(t, model, users[b], items[b], sim_t)

            # In blocks of entries: ALS's agreement holds (entries x user items x factors).
            on_every_core(block, range(0, len(items), EXPLAIN_BLOCK))
            why = "bought_together" if model == "co_visitation" else "similar_to"
            reason[mask] = np.where(best >= 0, why, "popular")
            because[mask] = best
        elif model == "category_popularity" and t.user_cat is not None:
            cat = t.item_cat[items]
            inside = (cat >= 0) & (_at(t.user_cat, users, np.maximum(cat, 0)) > 0)
            reason[mask] = np.where(inside, "popular_in_category", "popular")
    if t.again is not None:
        r, c = np.nonzero(ids >= 0)
        bought = _at(t.again, rows[r], ids[r, c]) > 0
        reason[r[bought], c[bought]] = "buy_again"
        because[r[bought], c[bought]] = ids[r[bought], c[bought]]
    return reason, because


def blend_grid(models: tuple[str, ...]) -> list[dict[str, float]]:
    """Weights 0, 1, 2 or 4 per model, at least two models weighted, proportional duplicates
    dropped; a fixed order, so the search is deterministic."""
    import itertools

    seen, grid = set(), []
    for combo in itertools.product((0, 1, 2, 4), repeat=len(models)):
        if sum(1 for c in combo if c) < 2:
            continue
        g = np.gcd.reduce([c for c in combo if c])
        key = tuple(c // g for c in combo)
        if key not in seen:
            seen.add(key)
            grid.append(dict(zip(models, map(float, key), strict=True)))
    return grid


BLEND_MAX_MODELS = 4  # the weight grid has 4^k entries: 4 lists keep it at about 150


def fit_blend(lists: dict[str, np.ndarray], hits_of, n_items: int) -> tuple[dict[str, float], float]:
    """The blend weights with the best ndcg@10 (`hits_of(recs)` gives the hit matrix of the
    validation users); ties keep the earlier grid entry. Popularity and the BLEND_MAX_MODELS - 1
    other lists with the best ndcg@10 on these same users enter the grid (the rest weigh 0)."""
    own = {m: ndcg_at_k(hits_of(v[:, :10]), hits_of.n_relevant, 10) for m, v in lists.items()}
    order = list(lists)
    others = sorted((m for m in order if m != "popularity"), key=lambda m: (-own[m], order.index(m)))
    room = BLEND_MAX_MODELS - ("popularity" in lists)
    lists = {m: v for m, v in lists.items() if m == "popularity" or m in others[:room]}
    fusion = Fusion(lists, n_items)
    grid = blend_grid(tuple(lists))
    scores = np.zeros(len(grid))

    def block(i: int) -> None:  # the grid entries on every core; the choice below is in order
        scores[i] = ndcg_at_k(hits_of(fusion.top(grid[i], 10)), hits_of.n_relevant, 10)

    on_every_core(block, range(len(grid)))
    best, best_score = {}, -1.0
    for w, score in zip(grid, scores, strict=True):
        if score > best_score + 1e-12:
            best, best_score = w, float(score)
    return best, best_score


def crossfit_blend(lists: dict[str, np.ndarray], rel, n_items: int, seed: int, n: int = 20,
                   folds: int = 2) -> np.ndarray:
    """Out-of-fold blend lists (users x n) for the validation users: split into `folds` seeded
    folds, each fold's lists fused with the weights fitted on the other folds, so the blend is
    never scored on the users its weights were chosen on (in-sample, picking the best of ~150
    weightings would flatter it). With fewer than two users, the in-sample weights."""
    m = len(rel.n_relevant)
    if m < 2:
        return blend(lists, fit_blend(lists, rel, n_items)[0], n_items, n)
    fold = np.random.default_rng(seed).permutation(m) % folds
    out = np.full((m, n), -1, dtype=np.int64)
    for f in range(folds):
        fit_on, held = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        w, _ = fit_blend({k: v[fit_on] for k, v in lists.items()}, rel.subset(fit_on), n_items)
        recs = blend({k: v[held] for k, v in lists.items()}, w, n_items, n)
        out[held, : recs.shape[1]] = recs
    return out


# --- metrics ---------------------------------------------------------------------------------
# All take a hit matrix (users x ranks, True where the recommended item is relevant) and the
# number of relevant items per user.

class Relevance:
    """The relevant items of the evaluated users; called on recommendations (users x k item
    indices, -1 = none) it returns their hit matrix."""

    def __init__(self, relevant: list[set], n_items: int):
        self.n_items = n_items
        self.n_relevant = np.array([len(r) for r in relevant], dtype=np.float64)
        self.keys = np.sort(np.array([u * (n_items + 1) + i for u, rel in enumerate(relevant)
                                      for i in rel], dtype=np.int64))

    def subset(self, idx: np.ndarray) -> Relevance:
        """The same for the users at positions `idx` (renumbered 0..len(idx)-1)."""
        out = object.__new__(Relevance)
        out.n_items, out.n_relevant = self.n_items, self.n_relevant[idx]
        pos = np.full(len(self.n_relevant), -1, dtype=np.int64)
        pos[idx] = np.arange(len(idx))
        u, i = np.divmod(self.keys, self.n_items + 1)
        keep = pos[u] >= 0
        out.keys = np.sort(pos[u[keep]] * (self.n_items + 1) + i[keep])
        return out

    def __call__(self, recs: np.ndarray) -> np.ndarray:
        if not len(self.keys):
            return np.zeros(recs.shape, dtype=bool)
        q = np.arange(recs.shape[0])[:, None] * (self.n_items + 1) + recs
        # keys is sorted: a binary search per recommendation, no sort of the queries.
        pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
        return (recs >= 0) & (self.keys[pos] == q)


def precision_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    return float((hits[:, :k].sum(axis=1) / k).mean()) if len(hits) else 0.0


def recall_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    return float((hits[:, :k].sum(axis=1) / n_relevant).mean()) if len(hits) else 0.0


def ndcg_per_user(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Each user's ndcg@k (binary relevance)."""
    if not len(hits):
        return np.zeros(0)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    h = hits[:, :k]
    dcg = (h * disc[: h.shape[1]]).sum(axis=1)
    ideal = np.cumsum(disc)[np.minimum(n_relevant, k).astype(int) - 1]
    return dcg / ideal


def ndcg_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    return float(ndcg_per_user(hits, n_relevant, k).mean()) if len(hits) else 0.0


def map_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    if not len(hits):
        return 0.0
    h = hits[:, :k].astype(np.float64)
    prec = np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)
    return float(((prec * h).sum(axis=1) / np.minimum(n_relevant, k)).mean())


def coverage(recs: np.ndarray, n_items: int, k: int) -> float:
    top = recs[:, :k]
    return float(len(np.unique(top[top >= 0])) / n_items) if n_items else 0.0


def all_metrics(recs: np.ndarray, rel: Relevance) -> dict[tuple[str, int], float]:
    hits = rel(recs)
    n = rel.n_relevant
    return {
        ("precision", 10): precision_at_k(hits, n, 10),
        ("recall", 20): recall_at_k(hits, n, 20),
        ("ndcg", 10): ndcg_at_k(hits, n, 10),
        ("map", 10): map_at_k(hits, n, 10),
        ("catalog_coverage", 10): coverage(recs, rel.n_items, 10),
    }


# --- similar items ---------------------------------------------------------------------------

def content_matrix(texts: list[str]) -> sp.csr_matrix | None:
    """L2-normalised TF-IDF rows of product name + category (None when there is no text)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not any(t.strip() for t in texts):
        return None
    vec = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", sublinear_tf=True, min_df=1)
    try:
        return vec.fit_transform(texts).tocsr().astype(np.float32)
    except ValueError:  # only stop words / empty vocabulary
        return None


def item_neighbours(
    item_factors: np.ndarray | None, content: sp.csr_matrix | None, support: np.ndarray, k: int,
    shrink: float = 10.0, batch: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k neighbours per item from a blend of ALS (cosine of item factors) and content
    (TF-IDF cosine): score = w * als + (1 - w) * content, w = n / (n + shrink), where n is the
    item's number of users (`support`). Computed in blocks of items sized to about 16 MB of
    scores, never catalogue x catalogue at once. Items nobody interacted with (w = 0) rely on content
    alone: the cold start. Without content, ALS alone; without factors, content alone."""
    n = len(support)
    w = (support / (support + shrink)).astype(np.float32)[:, None]
    if item_factors is not None:
        norms = np.linalg.norm(item_factors, axis=1, keepdims=True)
        unit = item_factors / np.where(norms == 0, 1, norms)
    k = min(k, max(n - 1, 0))
    ids = np.zeros((n, k), dtype=np.int64)
    vals = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return ids, vals
    batch = batch or max(1, (1 << 22) // max(n, 1))  # about 16 MB of scores per block

    def block(s: int) -> None:
        rows = slice(s, min(s + batch, n))
        cf = unit[rows] @ unit.T if item_factors is not None else None
        ct = (content[rows] @ content.T).toarray() if content is not None else None
        if cf is None:
            scores = ct
        elif ct is None:
            scores = cf
        else:
            scores = w[rows] * cf + (1 - w[rows]) * ct
        scores = scores.astype(np.float32)
        scores[np.arange(rows.stop - s), np.arange(s, rows.stop)] = -np.inf  # not itself
        idx = top_n(scores, k)
        ids[rows] = idx
        vals[rows] = np.take_along_axis(scores, idx, axis=1)

    with threadpool_limits(1, "blas"):
        on_every_core(block, range(0, n, batch))
    return ids, vals
