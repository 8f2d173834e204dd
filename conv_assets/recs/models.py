"""Recommendation building blocks over scipy CSR matrices: ALS, baselines, metrics, content.

Rows are users and columns items, both as dense integer indices assigned in SQL; frames arrive
through Arrow, and nothing loops over interactions in Python.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
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
    """implicit's ALS with one BLAS thread (implicit warns, and slows down badly, otherwise)."""
    from implicit.cpu.als import AlternatingLeastSquares

    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=params.factors, regularization=params.regularization, alpha=params.alpha,
            iterations=params.iterations, random_state=params.seed, num_threads=1,
        )
        model.fit(user_items, show_progress=False)
    return model


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores per row, best first (-inf never returned first)."""
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def recommend_scores(user_factors: np.ndarray, item_factors: np.ndarray, exclude: sp.csr_matrix,
                     n: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-n items per user by factor dot product over all items, `exclude` removed; implicit's
    own top-k routine (C++), one thread."""
    from implicit.cpu.topk import topk

    n = min(n, item_factors.shape[0])
    with threadpool_limits(1, "blas"):
        ids, scores = topk(np.ascontiguousarray(item_factors, dtype=np.float32),
                           np.ascontiguousarray(user_factors, dtype=np.float32), n,
                           filter_query_items=exclude.tocsr().astype(np.float32), num_threads=1)
    # implicit marks filtered positions with the lowest float; make them -inf for callers.
    scores = np.where(scores <= np.finfo(np.float32).min, -np.inf, scores).astype(np.float32)
    return ids.astype(np.int64), scores


def popularity_ranking(popularity: np.ndarray, exclude: sp.csr_matrix, n: int,
                       batch: int = 2048) -> np.ndarray:
    """The same popularity order for everyone, minus each user's excluded items."""
    out = []
    for s in range(0, exclude.shape[0], batch):
        block = exclude[s:s + batch].tocoo()
        scores = np.tile(popularity.astype(np.float32), (block.shape[0], 1))
        scores[block.row, block.col] = -np.inf
        out.append(top_n(scores, n))
    return np.vstack(out) if out else np.zeros((0, n), dtype=np.int64)


def knn_ranking(train: sp.csr_matrix, rows: np.ndarray, exclude: sp.csr_matrix, n: int,
                k: int = 20, batch: int = 2048) -> np.ndarray:
    """implicit's BM25 item nearest neighbours (fitted on `train`), ranked over all items for
    the given user rows; `exclude` has one row per entry of `rows`."""
    from implicit.nearest_neighbours import BM25Recommender

    model = BM25Recommender(K=k, num_threads=1)
    model.fit(train, show_progress=False)
    out = []
    for s in range(0, len(rows), batch):
        scores = (train[rows[s:s + batch]] @ model.similarity).toarray().astype(np.float32)
        block = exclude[s:s + batch].tocoo()
        scores[block.row, block.col] = -np.inf
        out.append(top_n(scores, n))
    return np.vstack(out) if out else np.zeros((0, n), dtype=np.int64)


# --- metrics ---------------------------------------------------------------------------------

def precision_at_k(recs: np.ndarray, relevant: list[set], k: int) -> float:
    return float(np.mean([len(set(r[:k]) & rel) / k for r, rel in zip(recs, relevant, strict=True)]))


def recall_at_k(recs: np.ndarray, relevant: list[set], k: int) -> float:
    return float(np.mean([len(set(r[:k]) & rel) / len(rel) for r, rel in zip(recs, relevant, strict=True)]))


def ndcg_at_k(recs: np.ndarray, relevant: list[set], k: int) -> float:
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    out = []
    for r, rel in zip(recs, relevant, strict=True):
        gains = np.array([1.0 if i in rel else 0.0 for i in r[:k]])
        ideal = discounts[: min(len(rel), k)].sum()
        out.append(float((gains * discounts[: len(gains)]).sum() / ideal))
    return float(np.mean(out))


def map_at_k(recs: np.ndarray, relevant: list[set], k: int) -> float:
    out = []
    for r, rel in zip(recs, relevant, strict=True):
        hits, total = 0, 0.0
        for i, item in enumerate(r[:k]):
            if item in rel:
                hits += 1
                total += hits / (i + 1)
        out.append(total / min(len(rel), k))
    return float(np.mean(out))


def coverage(recs: np.ndarray, n_items: int, k: int) -> float:
    return float(len(np.unique(recs[:, :k])) / n_items) if n_items else 0.0


def all_metrics(recs: np.ndarray, relevant: list[set], n_items: int) -> dict[tuple[str, int], float]:
    return {
        ("precision", 10): precision_at_k(recs, relevant, 10),
        ("recall", 20): recall_at_k(recs, relevant, 20),
        ("ndcg", 10): ndcg_at_k(recs, relevant, 10),
        ("map", 10): map_at_k(recs, relevant, 10),
        ("catalog_coverage", 10): coverage(recs, n_items, 10),
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
    shrink: float = 10.0, batch: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k neighbours per item from a blend of ALS (cosine of item factors) and content
    (TF-IDF cosine): score = w * als + (1 - w) * content, w = n / (n + shrink), where n is the
    item's number of users (`support`). Items nobody interacted with (w = 0) rely on content
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
    with threadpool_limits(1, "blas"):
        for s in range(0, n, batch):
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
    return ids, vals
