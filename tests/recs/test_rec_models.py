"""Recommendation pieces on small known examples."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from conv_assets.recs.models import (
    BLEND,
    AlsParams,
    Fusion,
    Relevance,
    all_metrics,
    blend_grid,
    content_matrix,
    csr,
    fit_als,
    fit_blend,
    item_neighbours,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    ranked,
    recall_at_k,
    recommend,
    top_n,
    train_candidates,
)


def test_metrics_by_hand():
    recs = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    rel = Relevance([{2, 9}, {5}], n_items=10)
    hits, n = rel(recs), rel.n_relevant
    assert hits.tolist() == [[False, True, False, False], [True, False, False, False]]
    assert precision_at_k(hits, n, 2) == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert recall_at_k(hits, n, 2) == pytest.approx((1 / 2 + 1) / 2)
    # user 1: hit at rank 2 -> (1/log2(3)) / (1 + 1/log2(3)); user 2: hit at rank 1 -> 1
    u1 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert ndcg_at_k(hits, n, 2) == pytest.approx((u1 + 1) / 2)
    # AP@2: user 1 -> (1/2) / min(2, 2) = 0.25; user 2 -> 1 / 1
    assert map_at_k(hits, n, 2) == pytest.approx((0.25 + 1) / 2)
    # ndcg@4 for user 2 with three relevant items, hits at ranks 1 and 4:
    # (1 + 1/log2(5)) / (1 + 1/log2(3) + 1/log2(4)); -1 (no item) is never a hit.
    rel3 = Relevance([{5, 8, 0}], n_items=10)
    h3 = rel3(np.array([[5, 6, -1, 8]]))
    assert ndcg_at_k(h3, rel3.n_relevant, 4) == pytest.approx(
        (1 + 1 / np.log2(5)) / (1 + 1 / np.log2(3) + 1 / np.log2(4)))
    assert map_at_k(h3, rel3.n_relevant, 4) == pytest.approx((1 + 2 / 4) / 3)
    assert all_metrics(np.array([[5, 6, -1, 8]]), rel3)[("catalog_coverage", 10)] == pytest.approx(0.3)


def test_csr_sums_duplicates_and_keeps_shape():
    frame = pl.DataFrame({"user_index": [0, 0, 2, 0], "item_index": [1, 3, 0, 1],
                          "weight": [1.0, 2.0, 4.0, 8.0]})
    m = csr(frame, 3, 4)
    assert m.shape == (3, 4)
    assert m.toarray().tolist() == [[0, 9, 0, 2], [0, 0, 0, 0], [4, 0, 0, 0]]


def _trained(seed: int = 0):
    rng = np.random.default_rng(seed)
    m = sp.random(40, 8, density=0.3, random_state=seed, format="csr", dtype=np.float32)
    m.data[:] = rng.integers(1, 5, m.nnz)
    pop = np.array([5, 9, 1, 7, 0, 3, 2, 8], dtype=np.float32)
    cats = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    return train_candidates(m, AlsParams(factors=4, iterations=3, seed=1), pop, cats, knn_k=3)


def test_excluded_items_never_recommended_and_popularity_order():
    t = _trained()
    rows = np.arange(5)
    exclude = sp.csr_matrix(np.eye(5, 8))
    for model in (*t.models(), BLEND):
        ids = recommend(t, model, {"als": 1.0, "item_knn": 1.0, "popularity": 1.0}, rows, exclude, 7)
        for u in range(5):
            got = [i for i in ids[u] if i >= 0]
            assert u not in got, model
            assert len(set(got)) == len(got), model
    ids = ranked(t, "popularity", np.arange(2), sp.csr_matrix(([1.0], ([0], [1])), shape=(2, 8)), 3)
    assert ids.tolist() == [[7, 3, 0], [1, 7, 3]]
    # item-kNN ranks every item: the ones its neighbours leave empty follow by popularity.
    assert (ranked(t, "item_knn", rows, sp.csr_matrix((5, 8)), 8) >= 0).all()


@pytest.mark.parametrize("model", ["als", "item_knn", "popularity", "category_popularity"])
def test_ranked_equals_a_brute_force_full_ranking(model):
    """The pooled, batched ranking gives exactly the top n of every item's score."""
    rng = np.random.default_rng(5)
    m = sp.random(300, 500, density=0.02, random_state=5, format="csr", dtype=np.float32)
    m.data[:] = rng.integers(1, 5, m.nnz)
    pop = rng.integers(0, 50, 500).astype(np.float32)
    cats = rng.integers(-1, 6, 500)
    t = train_candidates(m, AlsParams(factors=8, iterations=3, seed=1), pop, cats, knn_k=5)
    rows = np.arange(0, 300, 3)
    exclude = m[rows]
    got = ranked(t, model, rows, exclude, 10)
    # Brute force over the whole catalogue, written out here.
    p = t.pop
    if model == "als":
        full = t.als.user_factors[rows] @ t.als.item_factors.T
    elif model == "item_knn":
        knn = (m[rows] @ t.knn).toarray()
        full = np.where(knn > 0, knn, p - 2.0)
    elif model == "popularity":
        full = np.tile(p, (len(rows), 1))
    else:
        share = t.user_cat[rows].toarray()
        cp = np.where(cats >= 0, share[:, np.maximum(cats, 0)], 0) * (1 + p)
        full = np.where(cp > 0, cp, p - 2.0)
    full = np.where(exclude.toarray() > 0, -np.inf, full)
    for r in range(len(rows)):
        want = sorted(range(500), key=lambda i: (-full[r, i], i))[:10]
        if model == "als":  # float ties aside, the same set in the same order
            np.testing.assert_allclose(full[r, got[r]], full[r, want], rtol=1e-5)
        else:
            assert got[r].tolist() == want, r


@pytest.mark.parametrize("model", ["item_knn", "popularity", "category_popularity"])
def test_ranked_over_several_blocks_with_scores_equals_a_full_sort(model):
    """9,000 users (three blocks of 4,096, ranked on several threads), a small catalogue so many
    lists run into the popularity fill, and exclusions: ids and scores equal a full sort of
    every item's score (numpy's lexsort: score descending, ties to the lower item)."""
    rng = np.random.default_rng(11)
    m = sp.random(9000, 60, density=0.03, random_state=11, format="csr", dtype=np.float32)
    m.data[:] = rng.integers(1, 5, m.nnz)
    pop = rng.integers(0, 8, 60).astype(np.float32)  # few distinct values: many ties
    cats = rng.integers(-1, 4, 60)
    t = train_candidates(m, AlsParams(factors=4, iterations=2, seed=1), pop, cats, knn_k=4)
    rows = np.arange(9000)
    heavy = sp.csr_matrix((np.ones(50 * 45, np.float32), (np.repeat(np.arange(50), 45),
                                                         np.tile(np.arange(45), 50))), shape=(9000, 60))
    exclude = (m[rows] + heavy).tocsr()  # the first 50 users have bought 45 of the 60 items
    ids, vals = ranked(t, model, rows, exclude, 20, with_scores=True)
    p = t.pop
    if model == "item_knn":
        knn = (m @ t.knn).toarray().astype(np.float32)
        full = np.where(knn > 0, knn, p - np.float32(2.0))
    elif model == "popularity":
        full = np.tile(p, (9000, 1))
    else:
        share = t.user_cat.toarray()
        cp = (np.where(cats >= 0, share[:, np.maximum(cats, 0)], 0) * (1 + p)).astype(np.float32)
        full = np.where(cp > 0, cp, p - np.float32(2.0))
    full = np.where(exclude.toarray() > 0, -np.inf, full).astype(np.float32)
    order = np.lexsort((np.broadcast_to(np.arange(60), full.shape), -full), axis=-1)[:, :20]
    want_vals = np.take_along_axis(full, order, axis=1)
    want = np.where(want_vals > -np.inf, order, -1)
    np.testing.assert_array_equal(ids, want)
    np.testing.assert_array_equal(vals, want_vals)
    assert (ids[:50] == -1).any() and (ids[50:] >= 0).all()  # the catalogue runs out for some


def test_top_n_breaks_ties_to_the_lower_index():
    # Many ties (scores on a coarse grid), -inf and -0.0 (equal to 0.0), against a plain sort
    # of each row by (score descending, index).
    rng = np.random.default_rng(5)
    for _ in range(200):
        users, width = int(rng.integers(1, 30)), int(rng.integers(1, 40))
        s = (rng.integers(-5, 5, size=(users, width)) / 3).astype(np.float32)
        s[rng.random(s.shape) < rng.random()] = -np.inf
        s[rng.random(s.shape) < 0.1] = -0.0
        n = int(rng.integers(1, 45))
        want = [sorted(range(width), key=lambda j, row=row: (-row[j], j))[:n] for row in s.tolist()]
        assert top_n(s, n).tolist() == want
    assert top_n(np.zeros((2, 3), np.float32), 0).shape == (2, 0)


def test_fusion_by_hand():
    # Two lists for one user; weights 1 and 3: item 2 = 1/61 + 3/62, item 1 = 1/62 + 3/61,
    # item 0 = 1/63 (only in the first list), item 3 = 3/63.
    lists = {"a": np.array([[2, 1, 0]]), "b": np.array([[1, 2, 3]])}
    f = Fusion(lists, n_items=5)
    assert f.top({"a": 1.0, "b": 3.0}, 4).tolist() == [[1, 2, 3, 0]]
    assert f.top({"a": 1.0, "b": 0.0}, 4).tolist() == [[2, 1, 0, -1]]


def test_fusion_matches_a_plain_reciprocal_rank_sum():
    # Random lists (-1 pads at the end, items shared between lists) against a dictionary sum of
    # weight / (60 + rank) per item, ranked by score then item.
    rng = np.random.default_rng(11)
    for _ in range(100):
        users, n_items = int(rng.integers(1, 6)), int(rng.integers(1, 15))
        lists = {}
        for m in ("a", "b", "c")[: int(rng.integers(1, 4))]:
            depth = int(rng.integers(1, 8))
            arr = np.full((users, depth), -1)
            for u in range(users):
                k = int(rng.integers(0, min(depth, n_items) + 1))
                arr[u, :k] = rng.choice(n_items, k, replace=False)
            lists[m] = arr
        weights = {m: float(rng.choice([0.0, 1.0, 2.0, 4.0])) for m in lists}
        got = Fusion(lists, n_items).top(weights, 5)
        k = min(5, sum(a.shape[1] for a in lists.values()))  # at most the lists' total depth
        for u in range(users):
            score: dict[int, float] = {}
            for m, arr in lists.items():
                for rank, item in enumerate(arr[u].tolist(), start=1):
                    if item >= 0:
                        score[item] = score.get(item, 0.0) + weights[m] / (60 + rank)
            want = sorted((i for i in score if score[i] > 0), key=lambda i: (-score[i], i))[:k]
            assert got[u].tolist() == want + [-1] * (k - len(want))


def test_blend_weights_are_deterministic():
    t = _trained(3)
    rows = np.arange(40)
    rng = np.random.default_rng(9)
    rel = Relevance([set(rng.choice(8, 2, replace=False).tolist()) for _ in rows], 8)
    exclude = sp.csr_matrix((40, 8))
    lists = {m: ranked(t, m, rows, exclude, 8) for m in t.models()}
    a = fit_blend(lists, rel, 8)
    b = fit_blend({m: ranked(_trained(3), m, rows, exclude, 8) for m in t.models()}, rel, 8)
    assert a == b and a[0] in blend_grid(tuple(lists))
    # Proportional weightings are tried once: (1, 1) and (2, 2) are the same blend.
    grid = blend_grid(("x", "y"))
    assert {"x": 1.0, "y": 1.0} in grid and {"x": 2.0, "y": 2.0} not in grid


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


def test_paired_bootstrap_against_hand_computed_intervals():
    from conv_assets.choice import paired_bootstrap

    # Every user gains 0.2: every resample's mean is 0.2.
    assert paired_bootstrap(np.full(10, 0.2)) == pytest.approx((0.2, 0.2))
    # Two users, gains 0 and 1: a resample's mean is 0, 0.5 or 1 with chances 1/4, 1/2, 1/4,
    # so the 5% and 95% quantiles of 2,000 resamples are 0 and 1.
    assert paired_bootstrap(np.array([0.0, 1.0]), 2000, seed=1) == (0.0, 1.0)
    # 400 users, gains +-1 in equal numbers around a mean of 0.05: the mean's standard error
    # is about 1/sqrt(400) = 0.05, so the 90% interval is about 0.05 +- 1.645 x 0.05.
    d = np.where(np.arange(400) % 2 == 0, 1.0, -1.0) + 0.05
    lo, hi = paired_bootstrap(d, 4000, seed=2)
    assert lo == pytest.approx(0.05 - 1.645 * 0.05, abs=0.01)
    assert hi == pytest.approx(0.05 + 1.645 * 0.05, abs=0.01)
    assert np.isnan(paired_bootstrap(np.zeros(0))[0])


def test_popularity_is_served_unless_a_gain_over_it_is_sure():
    from conv_assets.choice import confident_choice

    rng = np.random.default_rng(5)
    pop = rng.uniform(0, 1, 1000)
    order = ("popularity", "item_knn", "als")
    # Within the noise: item_knn is 0.005 better on average, with per-user swings of +-0.5
    # (standard error 0.5 / sqrt(1000) = 0.016, so the interval is about 0.005 +- 0.026).
    swings = np.where(np.arange(1000) % 2 == 0, 0.5, -0.5)
    noisy = {"popularity": pop, "item_knn": pop + 0.005 + swings}
    served, gains, _ = confident_choice(noisy, order, "popularity", 2000, seed=0)
    assert noisy["item_knn"].mean() > pop.mean()  # a naive choice would take it
    assert served == "popularity" and gains["item_knn"][0] < 0 < gains["item_knn"][1]
    # A real gap: als gains 0.1 for every user; item_knn is still noise.
    sure = noisy | {"als": pop + 0.1}
    served, gains, edge = confident_choice(sure, order, "popularity", 2000, seed=0)
    assert served == "als" and gains["als"] == pytest.approx((0.1, 0.1)) and edge is None
    assert gains["popularity"] == (0.0, 0.0)


def test_a_more_complex_model_needs_a_sure_gain_over_the_simpler_ones():
    """Both item_knn and als beat popularity by 0.1 for every user; als adds 0.005 on average
    with per-user swings of +-0.5 (within noise: interval about 0.005 +- 0.026), so the simpler
    item_knn is served and the edge names als with that interval. With a steady 0.05 more,
    als is served."""
    from conv_assets.choice import confident_choice

    pop = np.random.default_rng(6).uniform(0, 1, 1000)
    swings = np.where(np.arange(1000) % 2 == 0, 0.5, -0.5)
    order = ("popularity", "item_knn", "als")
    close = {"popularity": pop, "item_knn": pop + 0.1, "als": pop + 0.105 + swings}
    served, gains, edge = confident_choice(close, order, "popularity", 2000, seed=0)
    assert close["als"].mean() > close["item_knn"].mean()  # the best mean is als
    assert gains["als"][0] > 0 and gains["item_knn"] == pytest.approx((0.1, 0.1))
    assert served == "item_knn" and edge[0] == "als"
    assert edge[1][0] == pytest.approx(0.005 - 1.645 * 0.5 / np.sqrt(1000), abs=0.006)
    assert edge[1][0] < 0 < edge[1][1]
    apart = close | {"als": pop + 0.15}
    assert confident_choice(apart, order, "popularity", 2000, seed=0)[::2] == ("als", None)


def test_relevance_subset_keeps_each_users_items():
    from conv_assets.recs.models import Relevance

    rel = Relevance([{0, 2}, {1}, {3}], n_items=4)
    sub = rel.subset(np.array([2, 0]))
    recs = np.array([[3, 0], [2, 1]])
    # user 2 (now row 0) has item 3; user 0 (now row 1) has items 0 and 2.
    assert sub(recs).tolist() == [[True, False], [True, False]]
    assert sub.n_relevant.tolist() == [1, 2]


def test_crossfit_blend_scores_each_half_with_the_other_halfs_weights():
    """Two users, one per fold, lists disjoint: user A's item (25) leads list a, user B's (5)
    list b. Fitted on A alone the first best weighting is a=2, b=1 (at 1:1 the tie goes to the
    lower item, 5): with it B's item falls below a's 20 items, ndcg 0. Fitted on B alone it is
    1:1 (5 first): A's item second, ndcg 1/log2(3). In sample, 1:1 for both: 1 and 1/log2(3)."""
    from conv_assets.recs.models import Relevance, blend, crossfit_blend, fit_blend

    n_items = 80
    a = np.array([[25, *range(30, 49)]] * 2)
    b = np.array([[5, *range(50, 69)]] * 2)
    rel = Relevance([{25}, {5}], n_items)
    lists = {"a": a, "b": b}
    out_of_fold = ndcg_at_k(rel(crossfit_blend(lists, rel, n_items, seed=1)), rel.n_relevant, 10)
    assert out_of_fold == pytest.approx((0 + 1 / np.log2(3)) / 2)
    w, _ = fit_blend(lists, rel, n_items)
    assert w == {"a": 1.0, "b": 1.0}
    in_sample = ndcg_at_k(rel(blend(lists, w, n_items, 20)), rel.n_relevant, 10)
    assert in_sample == pytest.approx((1 + 1 / np.log2(3)) / 2)


def test_buy_again_scores_by_hand():
    """Pairs (days, span, since, item): A (3, 20, 10, 0): its own interval 10, due now;
    C (2, 30, 60, 0): own interval 30, twice overdue; B (1, 0, 5, 0): item 0's median interval
    of A's 10 and C's 30 = 20; D (1, 0, 7, 1): item 1 never bought twice, the median over all
    repeated pairs = 20. Score = days x (0.25 + exp(-ln(since / interval)^2 / 2))."""
    import math

    from conv_assets.recs.models import buy_again_scores

    got = buy_again_scores(np.array([3, 2, 1, 1]), np.array([20, 30, 0, 0]),
                           np.array([10, 60, 5, 7]), np.array([0, 0, 0, 1]))
    expected = [3 * (0.25 + 1.0), 2 * (0.25 + math.exp(-math.log(2) ** 2 / 2)),
                1 * (0.25 + math.exp(-math.log(0.25) ** 2 / 2)),
                1 * (0.25 + math.exp(-math.log(0.35) ** 2 / 2))]
    assert got.tolist() == pytest.approx(expected, rel=1e-6)
    # Nobody bought anything twice: 30 days.
    one = buy_again_scores(np.array([1]), np.array([0]), np.array([30]), np.array([0]))
    assert one.tolist() == pytest.approx([1.25])


def test_explain_names_the_users_item_that_adds_most():
    """User 0 has items 0 (weight 1) and 1 (weight 3). Item 2's neighbour scores: 1 x 0.9 from
    item 0, 3 x 0.5 from item 1, so item 1 explains it; item 3 is reached from item 0 only.
    Item 1 was bought before: buy_again, whichever model put it there. Item 0 (viewed, not
    bought) is explained by the user's other item 1 (3 x 0.2), never by itself (1 x 1).
    Popularity: no item."""
    from conv_assets.recs.models import Trained, explain

    m = sp.csr_matrix(np.array([[1.0, 3.0, 0, 0], [0, 0, 1.0, 0]], dtype=np.float32))
    knn = sp.csr_matrix(np.array([[1.0, 0, 0.9, 0.4], [0.2, 0, 0.5, 0], [0, 0, 0, 0],
                                  [0, 0, 0, 0]], dtype=np.float32))
    again = sp.csr_matrix(np.array([[0, 2.0, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    t = Trained(m, None, knn, np.zeros(4, np.float32), None, None, again)
    credit = np.array([["item_knn", "item_knn", "item_knn", "item_knn", "popularity"]], dtype=object)
    reason, because = explain(t, credit, np.array([0]), np.array([[2, 3, 1, 0, 3]]))
    assert reason.tolist() == [["similar_to", "similar_to", "buy_again", "similar_to", "popular"]]
    assert because.tolist() == [[1, 0, 1, 1, -1]]


def test_explain_with_nothing_recommended():
    """A user the catalogue has nothing left for (every entry -1) gets no reason and no error."""
    from conv_assets.recs.models import Trained, explain

    m = sp.csr_matrix(np.array([[1.0, 0]], dtype=np.float32))
    t = Trained(m, None, None, np.zeros(2, np.float32), None, None, m.copy())
    reason, because = explain(t, np.array([["popularity"]], dtype=object), np.array([0]),
                              np.array([[-1]]))
    assert because.tolist() == [[-1]]


def test_co_visitation_pairs_by_hand():
    """Basket 0: items 0 (1.0), 1 (0.5); basket 1: items 0 (0.25), 1 (1.0), 2 (1.0).
    Pairs: (0,1) = 1 x 0.5 + 0.25 x 1 = 0.75; (0,2) = 0.25; (1,2) = 1.0; no self pairs. With
    one partner kept: 0 -> 1, 1 -> 2, 2 -> 1."""
    from conv_assets.recs.models import co_visitation_matrix

    basket = np.array([0, 0, 1, 1, 1])
    item = np.array([0, 1, 0, 1, 2])
    w = np.array([1.0, 0.5, 0.25, 1.0, 1.0])
    c = co_visitation_matrix(basket, item, w, 3).toarray()
    np.testing.assert_allclose(c, [[0, 0.75, 0.25], [0.75, 0, 1.0], [0.25, 1.0, 0]])
    one = co_visitation_matrix(basket, item, w, 3, k=1).toarray()
    np.testing.assert_allclose(one, [[0, 0.75, 0], [0, 0, 1.0], [0, 1.0, 0]])


def test_blend_grid_takes_popularity_and_the_three_best_lists():
    """Five lists; the relevant item leads lists a, b, c at rank 1, 2, 3, is absent from d and
    from popularity: d (the worst other) is left out of the grid, popularity kept."""
    from conv_assets.recs.models import Relevance, fit_blend

    rel = Relevance([{9}], n_items=20)
    lists = {"a": np.array([[9, 1, 2]]), "b": np.array([[1, 9, 2]]), "c": np.array([[1, 2, 9]]),
             "d": np.array([[3, 4, 5]]), "popularity": np.array([[6, 7, 8]])}
    w, _ = fit_blend(lists, rel, 20)
    assert set(w) == {"a", "b", "c", "popularity"}
