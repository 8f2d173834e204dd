"""Recommendation pieces on small known examples."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from conv_assets.recs.models import (
    AlsParams,
    content_matrix,
    csr,
    fit_als,
    item_neighbours,
    map_at_k,
    ndcg_at_k,
    popularity_ranking,
    precision_at_k,
    recall_at_k,
    recommend_scores,
)


def test_metrics_by_hand():
    recs = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    relevant = [{2, 9}, {5}]
    assert precision_at_k(recs, relevant, 2) == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert recall_at_k(recs, relevant, 2) == pytest.approx((1 / 2 + 1) / 2)
    # user 1: hit at rank 2 -> (1/log2(3)) / (1 + 1/log2(3)); user 2: hit at rank 1 -> 1
    u1 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert ndcg_at_k(recs, relevant, 2) == pytest.approx((u1 + 1) / 2)
    # AP@2: user 1 -> (1/2) / min(2, 2) = 0.25; user 2 -> 1 / 1
    assert map_at_k(recs, relevant, 2) == pytest.approx((0.25 + 1) / 2)


def test_csr_sums_duplicates_and_keeps_shape():
    frame = pl.DataFrame({"user_index": [0, 0, 2, 0], "item_index": [1, 3, 0, 1],
                          "weight": [1.0, 2.0, 4.0, 8.0]})
    m = csr(frame, 3, 4)
    assert m.shape == (3, 4)
    assert m.toarray().tolist() == [[0, 9, 0, 2], [0, 0, 0, 0], [4, 0, 0, 0]]


def test_excluded_items_never_recommended_and_popularity_order():
    rng = np.random.default_rng(0)
    users, items = rng.normal(size=(5, 3)), rng.normal(size=(8, 3))
    exclude = sp.csr_matrix(np.eye(5, 8))
    ids, _ = recommend_scores(users, items, exclude, 7)
    for u in range(5):
        assert u not in ids[u]
        assert len(set(ids[u])) == 7
    pop = np.array([5, 9, 1, 7, 0, 3, 2, 8], dtype=np.float32)
    ranked = popularity_ranking(pop, sp.csr_matrix(([1.0], ([0], [1])), shape=(2, 8)), 3)
    assert ranked.tolist() == [[7, 3, 0], [1, 7, 3]]


def test_als_is_deterministic_with_a_seed():
    rng = np.random.default_rng(1)
    m = sp.random(60, 40, density=0.1, random_state=1, format="csr", dtype=np.float32)
    m.data[:] = rng.integers(1, 5, m.nnz)
    a = fit_als(m, AlsParams(factors=8, iterations=5, seed=7))
    b = fit_als(m, AlsParams(factors=8, iterations=5, seed=7))
    np.testing.assert_array_equal(a.item_factors, b.item_factors)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)


def test_cold_items_get_content_neighbours():
    texts = ["red wool scarf", "blue wool scarf", "red ceramic mug", "blue ceramic mug", "red wool hat"]
    content = content_matrix(texts)
    factors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0, 0]], dtype=np.float32)
    support = np.array([50, 40, 30, 20, 0], dtype=np.float32)  # the hat is new: no interactions
    ids, scores = item_neighbours(factors, content, support, 2)
    # The hat has no factors to speak of: its neighbours come from its text (wool, red).
    assert set(ids[4]) <= {0, 1, 2} and ids[4][0] == 0
    # Well-known scarves lean on ALS: each other's nearest.
    assert ids[0][0] == 1 and ids[1][0] == 0
    assert np.all(ids != np.arange(5)[:, None])
