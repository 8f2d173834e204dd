"""The learned re-ranker: its features by hand, its labels, and that it learns a signal the
base lists miss, scored out of fold."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from conv_assets.recs import ranker
from conv_assets.recs.models import Relevance, Trained, ndcg_at_k


def test_features_by_hand():
    # 2 users x 4 items. User 0 bought item 1 (weight 2, 3 days before the cutoff), viewed item 2.
    m = sp.csr_matrix(np.array([[0, 2, 1, 0], [1, 0, 0, 0]], dtype=np.float32))
    again = sp.csr_matrix(np.array([[0, 0.5, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    user_cat = sp.csr_matrix(np.array([[0.25, 0.75], [1.0, 0.0]], dtype=np.float32))
    t = Trained(m, None, None, np.array([1.0, 0.5, 0.25, 0.0], np.float32), user_cat,
                np.array([0, 1, 1, -1]), again)
    ctx = ranker.Context(since=sp.csr_matrix(np.array([[0, 4, 1, 0], [9, 0, 0, 0]], np.float32)),
                         pop_7d=np.array([0.5, 1.0, 0.0, 0.0], np.float32),
                         price=np.array([10.0, 4.0, 2.0, np.nan], np.float32))
    lists = {"a": np.array([[1, 3], [0, 2]]), "b": np.array([[3, -1], [2, 1]])}
    f, r, c, X = ranker.candidates(t, ctx, lists, np.array([0, 1]), ("a", "b"))
    got = {(int(u), int(f.items[u, k])): x for u, k, x in zip(r, c, X, strict=True)}
    assert set(got) == {(0, 1), (0, 3), (1, 0), (1, 1), (1, 2)}
    names = ranker.feature_names(("a", "b"))
    row = dict(zip(names, got[(0, 1)], strict=True))
    # Item 1 for user 0: rank 1 in a, not in b's first RANK_DEPTH (51), in one list; popularity
    # 0.5 / 1.0 (7 days); reciprocal-rank sum 1 / (60 + 1); weight 2; buy_again 0.5; last touch 3 days before; category 1 share
    # 0.75; price 4 over the user's usual (2 x 4 + 1 x 2) / 3 = 10/3.
    assert row == {"rank_a": 1, "rank_b": ranker.RANK_DEPTH + 1, "in_lists": 1,
                   "rrf_sum": np.float32(1 / (60 + 1)),
                   "popularity": 0.5, "popularity_7d": 1.0, "user_weight": 2, "buy_again_score": 0.5,
                   "days_since_interaction": 3, "category_share": 0.75,
                   "price_vs_user": np.float32(4 / (10 / 3))}
    row = dict(zip(names, got[(0, 3)], strict=True))
    # Item 3: rank 2 in a, 1 in b; never touched, no category, no price: NaN where undefined.
    assert (row["rank_a"], row["rank_b"], row["in_lists"], row["user_weight"]) == (2, 1, 2, 0)
    assert row["rrf_sum"] == np.float32(1 / 62 + 1 / 61)
    assert all(np.isnan(row[k]) for k in ("days_since_interaction", "category_share", "price_vs_user"))
    # User 1's usual price is item 0's (10); item 2 at 2 is 0.2 of it; it touched item 0 9 - 1 days ago.
    assert dict(zip(names, got[(1, 2)], strict=True))["price_vs_user"] == np.float32(0.2)
    assert dict(zip(names, got[(1, 0)], strict=True))["days_since_interaction"] == 8
    rel = Relevance([{3}, {2, 1}], 4)
    y = ranker.labels(rel, f, r, c)
    assert {k for k, v in zip(((int(u), int(f.items[u, k])) for u, k in zip(r, c, strict=True)),
                               y, strict=True) if v} == {(0, 3), (1, 2), (1, 1)}


def _shop(seed: int, users: int = 600, items: int = 60, noise: float = 0.0):
    """Users x items where what a user buys next is the item it last touched longest ago among
    those it touched (with probability 1 - noise; else one of the others at random): the base
    list ("recent", by recency) has it last, the ranker must learn to put it first from
    days_since_interaction."""
    rng = np.random.default_rng(seed)
    touched = np.array([rng.choice(items, 5, replace=False) for _ in range(users)])
    days = np.array([rng.choice(np.arange(1, 60), 5, replace=False) for _ in range(users)])
    order = np.argsort(days, axis=1)  # most recent first
    recent = np.take_along_axis(touched, order, axis=1)
    r = np.repeat(np.arange(users), 5)
    m = sp.csr_matrix((np.ones(users * 5, np.float32), (r, touched.ravel())), shape=(users, items))
    since = sp.csr_matrix((days.ravel().astype(np.float32) + 1, (r, touched.ravel())),
                          shape=(users, items))
    t = Trained(m, None, None, np.zeros(items, np.float32), None, None)
    ctx = ranker.Context(since, np.zeros(items, np.float32), np.full(items, np.nan, np.float32))
    pick = np.where(rng.random(users) < noise, rng.integers(0, 4, users), 4)
    rel = Relevance([{int(x)} for x in recent[np.arange(users), pick]], items)
    return t, ctx, {"recent": recent}, rel


def test_the_ranker_learns_what_the_lists_miss_and_is_scored_out_of_fold():
    rows = np.arange(600)
    t, ctx, lists, rel = _shop(1)
    f, r, c, X = ranker.candidates(t, ctx, lists, rows, ("recent",))
    train = (X, ranker.labels(rel, f, r, c), r)
    vt, vctx, vlists, vrel = _shop(2)
    vf, vr, vc, VX = ranker.candidates(vt, vctx, vlists, rows, ("recent",))
    oof, trees = ranker.crossfit(train, (VX, ranker.labels(vrel, vf, vr, vc), vr, vc), vf, 600, 0)
    assert len(trees) == 2 and all(1 <= n <= ranker.MAX_TREES for n in trees)
    # The base list puts the bought item 5th: ndcg@10 1/log2(6) = 0.387; the ranker first.
    assert ndcg_at_k(vrel(vlists["recent"]), vrel.n_relevant, 10) == np.float64(1 / np.log2(6))
    assert ndcg_at_k(vrel(oof), vrel.n_relevant, 10) > 0.99
    # Trained where nothing was bought among the candidates: no ranker.
    nothing = Relevance([set() for _ in rows], 60)
    assert ranker.fit((X, ranker.labels(nothing, f, r, c), r), 0) == (None, 0)


def test_crossfit_chooses_each_halfs_trees_on_the_other_half():
    """Half h of the validation users is ranked by the model whose trees early stopping chose
    on the other half only (computed here independently), never on the users it scores."""
    rows = np.arange(600)
    t, ctx, lists, rel = _shop(3, noise=0.5)
    f, r, c, X = ranker.candidates(t, ctx, lists, rows, ("recent",))
    train = (X, ranker.labels(rel, f, r, c), r)
    vt, vctx, vlists, vrel = _shop(4, noise=0.5)
    vf, vr, vc, VX = ranker.candidates(vt, vctx, vlists, rows, ("recent",))
    vy = ranker.labels(vrel, vf, vr, vc)
    oof, trees = ranker.crossfit(train, (VX, vy, vr, vc), vf, 600, seed=7)
    half = np.random.default_rng(7).permutation(600) % 2
    for h in (0, 1):
        other = half[vr] != h
        model, used = ranker.fit(train, 7, valid=(VX[other], vy[other], vr[other]))
        assert used == trees[h]
        mine = half[vr] == h
        ids = ranker.rank_with(model, vf, vr[mine], vc[mine], VX[mine], 20)
        # 5 candidates per user: the rest of the 20 ranks stay empty (-1).
        assert (oof[half == h, :5] == ids[half == h]).all() and (oof[:, 5:] == -1).all()


def test_a_model_this_training_cannot_serve_falls_back_and_says_so(tmp_path):
    """A served ranker whose saved file is missing gives the blend when the evaluation fitted
    blend weights, else als; once the file is there it is served; a category model on data
    without categories falls back too; every fallback is said."""
    from conv_assets.recs.assets import list_spec, ranker_file, servable
    from conv_assets.recs.models import AlsParams, train_candidates
    from conv_assets.resources import Warehouse

    m = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=np.float32))
    t = train_candidates(m, AlsParams(factors=2, iterations=1), np.ones(3, np.float32), None)
    wh = Warehouse(database=str(tmp_path / "wh.duckdb"))
    chosen = {"blend": {"params": {"als": 1.0, "popularity": 1.0}},
              "ranker": {"params": {"models": ["als", "popularity"]}}}
    said: list[str] = []
    assert servable(t, list_spec("ranker", chosen, "discovery"), wh, said)["model"] == "blend"
    assert servable(t, list_spec("ranker", {"ranker": chosen["ranker"]}, "discovery"), wh,
                    said)["model"] == "als"
    assert servable(t, list_spec("category_popularity", chosen, "repeat"), wh, said)["model"] == "blend"
    assert said == ["discovery: ranker cannot be served on this data, blend instead",
                    "discovery: ranker cannot be served on this data, als instead",
                    "repeat: category_popularity cannot be served on this data, blend instead"]
    ranker_file(wh, "discovery").parent.mkdir(parents=True)
    ranker_file(wh, "discovery").write_text("tree\n")
    spec = list_spec("ranker", chosen, "discovery")
    assert servable(t, spec, wh, said) == spec and len(said) == 3
    # ... but not when it ranks a candidate this training lacks.
    spec = list_spec("ranker", {"ranker": {"params": {"models": ["category_popularity"]}}}, "discovery")
    assert servable(t, spec, wh, said)["model"] == "als"
