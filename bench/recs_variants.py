"""ndcg@10 of recommender variants on the validation and test windows of a built warehouse,
beyond what rec_evaluation's grid tries: the figures behind the README's "what was tried".

    python bench/recs_variants.py data/analyst.duckdb
"""

from __future__ import annotations

import sys
import warnings
from datetime import timedelta

import duckdb

import conv_assets.recs.models as M
from conv_assets.recs.assets import load_split
from conv_assets.resources import event_day_range, sql_frame

warnings.filterwarnings("ignore")


def main(path: str) -> None:
    con = duckdb.connect(path, read_only=True)
    end = event_day_range(con)[1]
    d, w = timedelta(days=14), timedelta(days=365)
    products = sql_frame(con, "ml/select_products")
    splits = {"validation": load_split(con, end - 2 * d - w, end - 2 * d, end - d, 20000, 42, products),
              "test": load_split(con, end - d - w, end - d, end, 20000, 42, products)}

    def ndcg(sp, recs):
        return M.ndcg_at_k(sp.relevance(recs), sp.relevance.n_relevant, 10)

    for name, sp in splits.items():
        for hl in (7.0, 14.0):
            m = sp.matrix(con, hl)
            for f, reg, a, it in [(64, 0.05, 1, 15), (32, 0.05, 1, 15), (64, 0.05, 0.25, 15),
                                  (64, 0.5, 1, 15), (128, 1.0, 1, 15), (64, 0.05, 1, 30)]:
                t = M.Trained(m, M.fit_als(m, M.AlsParams(f, reg, a, it)), None, sp.popularity, None, None)
                print(name, f"als half-life {hl} factors {f} reg {reg} alpha {a} iterations {it}",
                      round(ndcg(sp, M.ranked(t, "als", sp.rows, sp.exclude, 10)), 4), flush=True)
            for k in (20, 50, 100, 200):
                t = M.train_candidates(m, M.AlsParams(8, 0.05, 1, 1), sp.popularity, sp.item_cat, knn_k=k)
                print(name, f"item_knn half-life {hl} K {k}",
                      round(ndcg(sp, M.ranked(t, "item_knn", sp.rows, sp.exclude, 10)), 4), flush=True)
    # Blends: weights fitted on validation, applied to test.
    for depth, rrf_k in ((100, 60), (100, 10), (200, 60)):
        M.BLEND_DEPTH, M.RRF_K = depth, rrf_k
        weights, scores = None, {}
        for name, sp in splits.items():
            t = M.train_candidates(sp.matrix(con, 14.0), M.AlsParams(32, 0.5, 1, 15), sp.popularity,
                                   sp.item_cat)
            lists = {m: M.ranked(t, m, sp.rows, sp.exclude, depth) for m in t.models()}
            if weights is None:
                weights, _ = M.fit_blend(lists, sp.relevance, sp.items.height)
            scores[name] = round(ndcg(sp, M.Fusion(lists, sp.items.height).top(weights, 10)), 4)
        print(f"blend depth {depth} fusion constant {rrf_k} weights {weights}", scores, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
