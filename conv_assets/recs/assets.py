"""Recommendations: interactions, ALS factors and top-N, similar items, offline evaluation."""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import scipy.sparse as sp

from conv_assets.metadata import markdown_table, table_metadata
from conv_assets.recs.models import (
    BLEND,
    BLEND_DEPTH,
    AlsParams,
    Relevance,
    Trained,
    all_metrics,
    blend,
    confident_choice,
    content_matrix,
    crossfit_blend,
    csr,
    fit_als,
    fit_blend,
    item_neighbours,
    ndcg_at_k,
    ndcg_per_user,
    ranked,
    recommend,
    train_candidates,
)
from conv_assets.resources import (
    WRITE_POOL,
    Warehouse,
    event_day_range,
    replace_table,
    run_sql,
    sql_frame,
    transaction,
)
from conv_assets.settings import load_settings

CLEAN = dg.AssetKey(["clean", "events"])
INTERACTIONS = dg.AssetKey(["ml", "interactions"])
ITEM_FACTORS = dg.AssetKey(["ml", "item_factors"])
USER_FACTORS = dg.AssetKey(["ml", "user_factors"])
RECOMMENDATIONS = dg.AssetKey(["ml", "user_recommendations"])
SIMILAR = dg.AssetKey(["ml", "similar_items"])
EVALUATION = dg.AssetKey(["ml", "rec_evaluation"])
_COMMON = {"group_name": "recs", "owners": ["team:data-science"]}
DEFAULT_WEIGHTS = "view=1,cart=4,favorite=2,remove_from_cart=0,purchase=8,return=0"


def weights() -> tuple[list[str], list[float]]:
    """CONV_RECS_WEIGHTS as 'type=weight,...' (types not listed weigh 0)."""
    raw = os.environ.get("CONV_RECS_WEIGHTS") or DEFAULT_WEIGHTS
    pairs = [p.split("=") for p in raw.split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise dg.Failure(f"CONV_RECS_WEIGHTS must look like 'view=1,purchase=8', got {raw!r}")
    return [p[0].strip() for p in pairs], [float(p[1]) for p in pairs]


def _settings() -> dict:
    env = os.environ.get
    return {
        "window_days": int(env("CONV_RECS_WINDOW_DAYS", "365")),
        "half_life_days": float(env("CONV_RECS_HALF_LIFE_DAYS", "14")),
        "bm25": env("CONV_RECS_BM25", "0") in ("1", "true", "yes"),
        "top_n": int(env("CONV_RECS_TOP_N", "10")),
        "similar_k": int(env("CONV_RECS_SIMILAR_K", "10")),
        "active_days": int(env("CONV_RECS_ACTIVE_DAYS", "90")),
        "popularity_days": int(env("CONV_RECS_POPULARITY_DAYS", "28")),
        "test_days": int(env("CONV_RECS_TEST_DAYS", "14")),
        "exclude_purchased": env("CONV_RECS_EXCLUDE_PURCHASED", "1") not in ("0", "false", "no"),
    }


def load_interactions(con, start: date, end: date, half_life: float) -> pl.DataFrame:
    types, values = weights()
    return sql_frame(con, "ml/select_interactions", start=start, end=end, weight_types=types,
                     weight_values=values, half_life_days=half_life,
                     exclude_suspicious=load_settings().exclude_suspicious)


def chosen_models(con) -> dict[str, dict]:
    """model -> {"served": bool, "params": dict} as rec_evaluation chose them (empty before it
    has run, or when it could not evaluate)."""
    frame = sql_frame(con, "ml/select_chosen_models")
    return {r["model"]: {"served": r["served"], "params": json.loads(r["params"])}
            for r in frame.iter_rows(named=True)}


def matrix(frame: pl.DataFrame, bm25: bool = False):
    n_users = int(frame["user_index"].max()) + 1 if frame.height else 0
    n_items = int(frame["item_index"].max()) + 1 if frame.height else 0
    m = csr(frame, n_users, n_items)
    if bm25 and m.nnz:
        from implicit.nearest_neighbours import bm25_weight

        m = bm25_weight(m.T.tocsr()).T.tocsr().astype(np.float32)
    return m


def index_pairs(pairs: pl.DataFrame, users: pl.DataFrame, items: pl.DataFrame, shape):
    """(user_id, product_id) pairs as a 0/1 CSR over the given user and item indices."""
    joined = pairs.join(users, on="user_id").join(items, on="product_id")
    return csr(joined.with_columns(pl.lit(1.0).alias("weight")), *shape)


# Depends on suspicious_activity: with CONV_EXCLUDE_SUSPICIOUS, flagged users are left out;
# on rec_evaluation for the decay half-life it chose.
@dg.asset(key=INTERACTIONS, deps=[CLEAN, dg.AssetKey(["analytics", "suspicious_activity"]), EVALUATION],
          kinds={"duckdb", "scipy"}, pool=WRITE_POOL, **_COMMON)
def interactions(warehouse: Warehouse) -> dg.MaterializeResult:
    """User x product confidence weights over the CONV_RECS_WINDOW_DAYS (default 365) days before
    the cutoff: each (event type, order or session) touch weighs CONV_RECS_WEIGHTS (default
    view 1, cart 4, favorite 2, purchase 8, return 0 = dropped), decayed by the half-life
    rec_evaluation chose on validation (CONV_RECS_HALF_LIFE_DAYS, default 14, before it has
    run; 0 = off), optional BM25 (CONV_RECS_BM25=1). Built in DuckDB, read through Arrow into a
    scipy CSR matrix."""
    s = _settings()
    with warehouse.connect() as con:
        end = event_day_range(con)[1]
        start = end - timedelta(days=s["window_days"])
        als = chosen_models(con).get("als")
        half_life = als["params"]["half_life_days"] if als else s["half_life_days"]
        frame = load_interactions(con, start, end, half_life)
        if s["bm25"] and frame.height:
            m = matrix(frame, bm25=True).tocoo()
            bm = pl.DataFrame({"user_index": m.row.astype(np.int32), "item_index": m.col.astype(np.int32),
                               "bm25": m.data})
            frame = frame.join(bm, on=["user_index", "item_index"]).with_columns(
                pl.col("bm25").cast(pl.Float32).alias("weight")).drop("bm25")
        frame = frame.with_columns(pl.lit(start).alias("window_start"), pl.lit(end).alias("window_end"))
        replace_table(con, "ml/replace_interactions", frame)
        meta = table_metadata(con, "ml.interactions", frame.height, frame.head(10))
    users = frame["user_index"].n_unique() if frame.height else 0
    items = frame["item_index"].n_unique() if frame.height else 0
    return dg.MaterializeResult(metadata=meta | {
        "users": users, "items": items, "nonzeros": frame.height,
        "density": frame.height / (users * items) if users and items else 0.0,
        "window": f"{start} .. {end} (end exclusive)", "half_life_days": half_life,
    })


def model_dir(warehouse: Warehouse) -> Path:
    """Beside the warehouse file (CONV_WAREHOUSE's folder, also in lake mode: never under the
    lake's data path, whose unreferenced files lake maintenance deletes)."""
    return Path(warehouse.path).resolve().parent / "models"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(ITEM_FACTORS, deps=[INTERACTIONS], kinds={"implicit", "duckdb"}, **_COMMON,
                     description="ALS item factors (FLOAT[]) per product of ml.interactions."),
        dg.AssetSpec(USER_FACTORS, deps=[INTERACTIONS], kinds={"implicit", "duckdb"}, **_COMMON,
                     description="ALS user factors (FLOAT[]) per user of ml.interactions."),
        dg.AssetSpec(
            RECOMMENDATIONS, deps=[INTERACTIONS, EVALUATION], kinds={"implicit", "duckdb"}, **_COMMON,
            description=("Top CONV_RECS_TOP_N (default 10) products per active user (an event "
                         "in the last CONV_RECS_ACTIVE_DAYS days, default 90) from the model "
                         "ml.rec_evaluation chose on validation (source names it), already "
                         "purchased items excluded (CONV_RECS_EXCLUDE_PURCHASED); users the "
                         "model has not seen get the trailing popularity list (distinct buyers, "
                         "28 days)."),
        ),
    ],
    pool=WRITE_POOL,
    can_subset=False,
)
def als_model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> Iterator[dg.MaterializeResult]:
    """Refit on all of ml.interactions with what rec_evaluation chose on validation: implicit's
    ALS (its chosen factors, regularization and alpha; before any evaluation CONV_ALS_FACTORS
    64, CONV_ALS_REGULARIZATION 0.05, CONV_ALS_ALPHA 1; CONV_ALS_ITERATIONS 15, CONV_ALS_SEED 42),
    stored as factors and saved next to the warehouse (models/als.npz with
    models/als_ids.parquet), and the served model's top-N for every active user it has seen
    (ALS when nothing has been evaluated yet)."""
    import time

    s = _settings()
    with warehouse.connect(read_only=True) as con:
        cutoff = event_day_range(con)[1]
        t0 = time.perf_counter()
        frame = sql_frame(con, "ml/select_interactions_table")
        read_s = time.perf_counter() - t0
        active = sql_frame(con, "ml/select_active_users", cutoff=cutoff, days=s["active_days"])
        popular = sql_frame(con, "ml/select_popularity", cutoff=cutoff, days=s["popularity_days"])
        purchased = sql_frame(con, "ml/select_purchased_before", cutoff=cutoff)
        chosen = chosen_models(con)
        users = frame.select("user_id", "user_index").unique().sort("user_index")
        items = frame.select("product_id", "item_index").unique().sort("item_index")
        item_cat = item_categories(sql_frame(con, "ml/select_products"), items)
    served = next((m for m, c in chosen.items() if c["served"]), "als")
    params = (AlsParams(**{k: v for k, v in chosen["als"]["params"].items() if k != "half_life_days"})
              if "als" in chosen else AlsParams.from_env())
    weights = chosen.get(BLEND, {}).get("params", {})
    # Connection closed: no lock is held while the model trains.
    t0 = time.perf_counter()
    user_items = matrix(frame)
    build_s = read_s + time.perf_counter() - t0  # DuckDB -> Arrow -> polars -> CSR
    recs_parts = []
    fit_s = 0.0
    if user_items.nnz:
        t0 = time.perf_counter()
        model = fit_als(user_items, params)
        fit_s = time.perf_counter() - t0
        out = model_dir(warehouse)
        out.mkdir(parents=True, exist_ok=True)
        model.save(str(out / "als.npz"))
        pl.concat([users.rename({"user_id": "id", "user_index": "index"}).with_columns(pl.lit("user").alias("kind")),
                   items.rename({"product_id": "id", "item_index": "index"}).with_columns(pl.lit("item").alias("kind"))]
                  ).write_parquet(out / "als_ids.parquet")
        seen_users = active.join(users, on="user_id").sort("user_index")
        rows = seen_users["user_index"].to_numpy()
        exclude = (index_pairs(purchased, users, items, user_items.shape) if s["exclude_purchased"]
                   else csr(frame.head(0), *user_items.shape))[rows]
        t = train_candidates(user_items, params, per_item(popular, items, "users"), item_cat, als=model)
        if served not in (*t.models, BLEND):
            served = "als"  # e.g. categories gone since the evaluation
        ids, scores = recommend(t, served, weights, rows, exclude, s["top_n"], with_scores=True)
        n = ids.shape[1]
        item_ids = items["product_id"].to_numpy()
        keep = ids.ravel() >= 0
        recs_parts.append(pl.DataFrame({
            "user_id": pl.Series(np.repeat(seen_users["user_id"].to_numpy(), n)[keep], dtype=pl.String),
            "rank": np.tile(np.arange(1, n + 1, dtype=np.int32), len(rows))[keep],
            "product_id": pl.Series(item_ids[ids.ravel()[keep]], dtype=pl.String),
            "score": scores.ravel()[keep],
        }).with_columns(pl.lit(served).alias("source")))
        # 2-D arrays become list columns without a Python loop over rows.
        item_factors = items.with_columns(
            pl.Series("factors", model.item_factors).cast(pl.List(pl.Float32)))
        user_factors = users.with_columns(
            pl.Series("factors", model.user_factors).cast(pl.List(pl.Float32)))
    else:
        item_factors = items.with_columns(pl.lit(None, pl.List(pl.Float32)).alias("factors"))
        user_factors = users.with_columns(pl.lit(None, pl.List(pl.Float32)).alias("factors"))
    cold = active.join(users, on="user_id", how="anti")
    if cold.height and popular.height:
        bought = purchased if s["exclude_purchased"] else purchased.head(0)
        top = popular.head(s["top_n"] + 50)
        cand = cold.join(top, how="cross").join(bought, on=["user_id", "product_id"], how="anti")
        cand = cand.sort(["user_id", "users", "product_id"], descending=[False, True, False]).group_by(
            "user_id", maintain_order=True).head(s["top_n"])
        recs_parts.append(cand.with_columns(
            pl.int_range(1, pl.len() + 1).over("user_id").cast(pl.Int32).alias("rank"),
            pl.col("users").cast(pl.Float32).alias("score"),
            pl.lit("popularity").alias("source"),
        ).select("user_id", "rank", "product_id", "score", "source"))
    recs = (pl.concat(recs_parts) if recs_parts else pl.DataFrame(
        schema={"user_id": pl.String, "rank": pl.Int32, "product_id": pl.String,
                "score": pl.Float32, "source": pl.String})).with_columns(pl.lit(cutoff).alias("cutoff_date"))
    with warehouse.connect() as con:
        con.register("factors_items", item_factors.to_arrow())
        con.register("factors_users", user_factors.to_arrow())
        con.register("recommendations", recs.to_arrow())
        with transaction(con, "ml.item_factors", "ml.user_factors", "ml.user_recommendations"):
            run_sql(con, "ml/replace_als_outputs")
        i_meta = table_metadata(con, "ml.item_factors", item_factors.height, item_factors.head(5))
        u_meta = table_metadata(con, "ml.user_factors", user_factors.height, user_factors.head(5))
        r_meta = table_metadata(con, "ml.user_recommendations", recs.height, recs.head(10))
    context.log.info(f"ALS on {user_items.shape} with {user_items.nnz} nonzeros: build {build_s:.3f}s, "
                     f"fit {fit_s:.3f}s")
    timing = {"matrix_build_seconds": build_s, "fit_seconds": fit_s,
              "params": dg.MetadataValue.json(params.__dict__)}
    yield dg.MaterializeResult(asset_key=ITEM_FACTORS, metadata=i_meta | timing)
    yield dg.MaterializeResult(asset_key=USER_FACTORS, metadata=u_meta | timing)
    why = ("chosen by ml.rec_evaluation on its validation window (its why_served says why)" if chosen
           else "ml.rec_evaluation has not chosen a model yet (too little history): ALS by default")
    yield dg.MaterializeResult(asset_key=RECOMMENDATIONS, metadata=r_meta | {
        "served_model": served, "why_served": why,
        "by_source": dg.MetadataValue.json(dict(recs.group_by("source").agg(
            pl.col("user_id").n_unique()).iter_rows())),
    })


@dg.asset(key=SIMILAR, deps=[ITEM_FACTORS, CLEAN], kinds={"implicit", "scikit-learn", "duckdb"},
          pool=WRITE_POOL, **_COMMON)
def similar_items(warehouse: Warehouse) -> dg.MaterializeResult:
    """Top CONV_RECS_SIMILAR_K (default 10) similar products for every product in the catalogue.
    Where products have text (names, category codes), TF-IDF cosine on name + category covers
    products nobody interacted with; the hybrid score is w x ALS cosine + (1 - w) x content
    cosine with w = users / (users + 10), so well-known products lean on ALS and new ones on
    their text."""
    k = _settings()["similar_k"]
    with warehouse.connect(read_only=True) as con:
        products = sql_frame(con, "ml/select_products")
        factors = sql_frame(con, "ml/select_item_factors")
    factor_map = products.select("product_id").join(factors, on="product_id", how="left")
    has_factors = factors.height > 0 and factor_map["factors"].null_count() < factor_map.height
    item_factors = None
    if has_factors:
        dim = len(factors["factors"][0])
        filled = factor_map["factors"].fill_null([0.0] * dim).cast(pl.Array(pl.Float32, dim))
        item_factors = filled.to_numpy().astype(np.float32)
    texts = (products["product_name"] + " " + products["category"]).to_list()
    content = content_matrix(texts)
    in_model = factor_map["factors"].is_not_null().to_numpy() if has_factors else np.zeros(products.height, bool)
    support = np.where(in_model, products["users"].to_numpy(), 0).astype(np.float32)
    if item_factors is None and content is None:
        out = pl.DataFrame(schema={"product_id": pl.String, "rank": pl.Int32,
                                   "similar_product_id": pl.String, "score": pl.Float32, "method": pl.String})
    else:
        ids, scores = item_neighbours(item_factors, content, support, k)
        n = ids.shape[1]
        pid = products["product_id"].to_numpy()
        method = np.where(content is None, "als", np.where(support > 0, "hybrid" if item_factors is not None
                                                           else "content", "content"))
        out = pl.DataFrame({
            "product_id": np.repeat(pid, n),
            "rank": np.tile(np.arange(1, n + 1, dtype=np.int32), len(pid)),
            "similar_product_id": pid[ids.ravel()] if n else np.array([], dtype=str),
            "score": scores.ravel(),
            "method": np.repeat(method, n),
        }).filter(pl.col("score") > -np.inf)
    with warehouse.connect() as con:
        replace_table(con, "ml/replace_similar_items", out)
        meta = table_metadata(con, "ml.similar_items", out.height, out.head(10))
    return dg.MaterializeResult(metadata=meta | {
        "products": products.height, "with_text": content is not None,
        "cold_products_covered_by_content": int(((support == 0) & (content is not None)).sum()),
    })


@dataclass
class Split:
    """Interactions before `split`, and the products each sampled user with such history bought
    in [split, end) having never bought them before."""
    start: date
    split: date
    end: date
    frame: pl.DataFrame  # decayed by half_life
    half_life: float
    users: pl.DataFrame
    items: pl.DataFrame
    rows: np.ndarray
    relevance: Relevance
    exclude: sp.csr_matrix
    popularity: np.ndarray
    item_cat: np.ndarray
    eligible_users: int

    def matrix(self, con, half_life: float) -> sp.csr_matrix:
        """The training matrix with interactions decayed by `half_life`, on this split's indices."""
        if half_life == self.half_life:
            return csr(self.frame, self.users.height, self.items.height)
        frame = load_interactions(con, self.start, self.split, half_life).select(
            "user_id", "product_id", "weight")
        joined = frame.join(self.users, on="user_id").join(self.items, on="product_id")
        return csr(joined, self.users.height, self.items.height)


def load_split(con, start: date, split: date, end: date, max_users: int, seed: int,
               products: pl.DataFrame) -> Split | None:
    half_life = _settings()["half_life_days"]
    frame = load_interactions(con, start, split, half_life)
    if not frame.height:
        return None
    users = frame.select("user_id", "user_index").unique().sort("user_index")
    items = frame.select("product_id", "item_index").unique().sort("item_index")
    test = sql_frame(con, "ml/select_test_purchases", start=split, end=end)
    rel = (test.join(users, on="user_id").join(items, on="product_id")
           .group_by("user_index").agg(pl.col("item_index")).sort("user_index"))
    eligible = rel.height
    if rel.height > max_users:  # a seeded random sample, in user order
        rel = rel.sample(max_users, seed=seed).sort("user_index")
    if not rel.height:
        return None
    rows = rel["user_index"].to_numpy()
    bought = sql_frame(con, "ml/select_purchased_before", cutoff=split)
    exclude = index_pairs(bought, users, items, (users.height, items.height))[rows]
    popular = sql_frame(con, "ml/select_popularity", cutoff=split, days=_settings()["popularity_days"])
    return Split(start, split, end, frame, half_life, users, items, rows,
                 Relevance([set(x) for x in rel["item_index"].to_list()], items.height), exclude,
                 per_item(popular, items, "users"), item_categories(products, items), eligible)


def per_item(frame: pl.DataFrame, items: pl.DataFrame, column: str) -> np.ndarray:
    out = np.zeros(items.height, dtype=np.float32)
    j = frame.join(items, on="product_id")
    out[j["item_index"].to_numpy()] = j[column].to_numpy()
    return out


def item_categories(products: pl.DataFrame, items: pl.DataFrame) -> np.ndarray:
    """Category index per item (-1 where the source has none); `products` as ml/select_products."""
    j = items.join(products.filter(pl.col("category") != "").select("product_id", "category"),
                   on="product_id")
    codes = {c: i for i, c in enumerate(sorted(set(j["category"].to_list())))}
    out = np.full(items.height, -1, dtype=np.int64)
    out[j["item_index"].to_numpy()] = [codes[c] for c in j["category"].to_list()]
    return out


def half_lives(default: float) -> list[float]:
    """The decay half-lives the validation search tries, the configured one first."""
    return list(dict.fromkeys([default, 7.0, 28.0, 0.0]))


def tune(matrices: dict[float, sp.csr_matrix], sp_: Split, base: AlsParams, half_life: float,
         budget_s: float, log) -> dict:
    """Coordinate search on the validation split (`matrices`: its training matrix per
    half-life): the decay half-life, then ALS factors, regularization and alpha, each over a few
    values with the others held at their best; stops when the time box is spent (the configs
    tried so far decide). Returns the best config and its fitted model ("model", None when
    nothing was tried), which later steps reuse instead of fitting it again. No warehouse
    connection is held while the models train."""
    import time

    t0 = time.perf_counter()
    best = {"half_life_days": half_life, **base.__dict__}
    scores: dict[tuple, float] = {}
    fitted: dict[tuple, object] = {}  # the best config's model, and the candidate's

    def key_of(cfg: dict) -> tuple:
        return tuple(sorted(cfg.items()))

    def score(cfg: dict) -> float:
        key = key_of(cfg)
        if key not in scores:
            hl = cfg["half_life_days"]
            params = AlsParams(**{k: v for k, v in cfg.items() if k != "half_life_days"})
            t = Trained(matrices[hl], fit_als(matrices[hl], params), None, np.zeros(0), None, None)
            recs = ranked(t, "als", sp_.rows, sp_.exclude, 10)
            scores[key] = ndcg_at_k(sp_.relevance(recs), sp_.relevance.n_relevant, 10)
            fitted[key] = t.als
            log(f"tuning {cfg}: validation ndcg@10 {scores[key]:.4f}")
        return scores[key]

    grid = {"half_life_days": list(matrices), "factors": [base.factors, 32, 128],
            "regularization": [base.regularization, 0.01, 0.5], "alpha": [base.alpha, 5.0, 20.0]}
    stopped = False
    for name, values in grid.items():
        for v in dict.fromkeys(values):
            if time.perf_counter() - t0 > budget_s:
                stopped = True
                break
            cand = best | {name: v}
            if score(cand) > score(best) + 1e-9:
                best = cand
            fitted = {k: m for k, m in fitted.items() if k == key_of(best)}
    return {"best": best, "model": fitted.get(key_of(best)), "configs_tried": len(scores),
            "time_box_hit": stopped, "seconds": time.perf_counter() - t0}


def base_lists(t: Trained, sp_: Split) -> dict[str, np.ndarray]:
    """Every base model's top BLEND_DEPTH for the split's users: what the blend search fuses and
    the metrics read."""
    return {m: ranked(t, m, sp_.rows, sp_.exclude, BLEND_DEPTH) for m in t.models}


def evaluate_all(lists: dict[str, np.ndarray], sp_: Split, weights: dict,
                 blend_recs: np.ndarray | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """Metrics of every candidate's top 20, from the base models' top-BLEND_DEPTH `lists` (their
    first 20 ranks, and the blend: `blend_recs` when given, else fused from them with `weights`,
    as `recommend` does), and each candidate's per-user ndcg@10 (for the bootstrap)."""
    tops = {m: v[:, :20] for m, v in lists.items()} | {
        BLEND: blend(lists, weights, sp_.items.height, 20) if blend_recs is None else blend_recs}
    rel = sp_.relevance
    return ({m: all_metrics(recs, rel) for m, recs in tops.items()},
            {m: ndcg_per_user(rel(recs), rel.n_relevant, 10) for m, recs in tops.items()})


@dg.asset(key=EVALUATION, deps=[CLEAN, dg.AssetKey(["analytics", "suspicious_activity"])],
          kinds={"implicit", "duckdb"}, pool=WRITE_POOL,
          check_specs=[dg.AssetCheckSpec(
              "served_beats_popularity", asset=EVALUATION,
              description="Warns when the served model's test ndcg@10 is below popularity's.")],
          **_COMMON)
def rec_evaluation(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Chooses the served recommender on a validation window and reports it on a later test
    window it never saw. Windows: test = the latest complete CONV_RECS_TEST_DAYS days (default
    14), validation = the same length before it. Candidates: als, item_knn (BM25, K=20,
    popularity fills the ranks its neighbours leave), popularity (distinct buyers in the 28 days
    before the split), category_popularity (popularity within the user's categories, where the
    source has categories) and blend (weighted reciprocal-rank fusion of the others).
    On validation (trained on events before it): a time-boxed coordinate search
    (CONV_RECS_TUNING_SECONDS, default 120) over the decay half-life and ALS factors,
    regularization and alpha; the blend weights (its own validation figures are out of fold:
    the users in two seeded halves, each scored with the weights fitted on the other). The
    served model: popularity, unless another
    candidate's validation ndcg@10 gain over it is sure, i.e. the lower bound of a paired
    bootstrap over the evaluated users (CONV_RECS_BOOTSTRAP resamples, default 2,000, seeded;
    CONV_RECS_CONFIDENCE 0.90 two-sided) is above 0; of those, the best. The intervals are
    gain_low/gain_high.
    Then everything is refitted on the events before the test window and scored there.
    Users: those with training history who bought a product new to them in the window, a
    seeded sample of at most CONV_RECS_EVAL_USERS (default 20,000). Metrics precision@10,
    recall@20, ndcg@10, map@10, catalogue coverage@10, in long format."""
    s = _settings()
    base = AlsParams.from_env()
    budget = float(os.environ.get("CONV_RECS_TUNING_SECONDS", "120"))
    cap = int(os.environ.get("CONV_RECS_EVAL_USERS", "20000"))
    resamples = int(os.environ.get("CONV_RECS_BOOTSTRAP", "2000"))
    confidence = float(os.environ.get("CONV_RECS_CONFIDENCE", "0.90"))
    days = timedelta(days=s["test_days"])
    window = timedelta(days=s["window_days"])
    with warehouse.connect(read_only=True) as con:
        first, end = event_day_range(con)
        test_start, val_start = end - days, end - 2 * days
        products = sql_frame(con, "ml/select_products")
        val = load_split(con, val_start - window, val_start, test_start, cap, base.seed, products)
        matrices = {hl: val.matrix(con, hl) for hl in half_lives(s["half_life_days"])} if val else {}
    # Connection closed: no lock is held while the candidates train.
    note, rows, served, chosen, weights, tuning = "", [], None, None, {}, {}
    # Days of events the validation models train on: the tuning's choices rest on them.
    history = max((val_start - first).days, 0)
    if val is not None and history < s["test_days"]:
        context.log.warning(f"the validation models train on {history} days of history only "
                            f"(before {val_start}): the tuning choices rest on little data")
    if val is None:
        note = "no user with history bought a new product in the validation window"
    else:
        tuning = tune(matrices, val, base, s["half_life_days"], budget, context.log.info)
        chosen, tuned = tuning.pop("best"), tuning.pop("model")
        params = AlsParams(**{k: v for k, v in chosen.items() if k != "half_life_days"})
        t = train_candidates(matrices[chosen["half_life_days"]], params, val.popularity, val.item_cat,
                             als=tuned)
        lists = base_lists(t, val)
        weights, _ = fit_blend(lists, val.relevance, val.items.height)
        # The blend's validation figures are out of fold (weights fitted on the other half of
        # the users), so its gain is not flattered by the weight search.
        val_metrics, val_users = evaluate_all(
            lists, val, weights, crossfit_blend(lists, val.relevance, val.items.height, base.seed))
        # Popularity is served unless another model beats it on validation for sure: the lower
        # bound of a paired bootstrap of the per-user ndcg@10 difference above 0.
        served, gains = confident_choice(val_users, ORDER, "popularity", resamples, base.seed,
                                         confidence)
        rows += _rows(val_metrics, "validation", val, chosen, weights, served, gains)
        with warehouse.connect(read_only=True) as con:
            test = load_split(con, test_start - window, test_start, end, cap, base.seed, products)
            test_matrix = test.matrix(con, chosen["half_life_days"]) if test else None
        if test is None:
            note = "no user with history bought a new product in the test window"
        else:
            tt = train_candidates(test_matrix, params, test.popularity, test.item_cat)
            test_metrics, test_users = evaluate_all(base_lists(tt, test), test, weights)
            # Reported, never used: how sure the test window is of each gain.
            _, test_gains = confident_choice(test_users, ORDER, "popularity", resamples,
                                             base.seed, confidence)
            rows += _rows(test_metrics, "test", test, chosen, weights, served, test_gains)
    out = pl.DataFrame(rows, schema=EVAL_SCHEMA)
    with warehouse.connect() as con:
        replace_table(con, "ml/replace_rec_evaluation", out)
        meta = table_metadata(con, "ml.rec_evaluation", out.height, out.head(15))
    ndcg = {(r["window"], r["model"]): r["value"] for r in rows if r["metric"] == "ndcg"}
    test_ndcg = {m: v for (w, m), v in ndcg.items() if w == "test"}
    wide = (out.filter(pl.col("metric") == "ndcg").pivot(on="window", index="model", values="value")
            if out.height else out)
    why = _why(served, rows, confidence) if served else f"als (not evaluated: {note})"
    context.log.info(f"served {why}; test ndcg@10 {test_ndcg} {note}")
    yield dg.MaterializeResult(metadata=meta | {
        "served_model": served or "als", "why_served": why,
        "ndcg10": dg.MetadataValue.md(markdown_table(wide)),
        "chosen_params": dg.MetadataValue.json(chosen or {}),
        "blend_weights": dg.MetadataValue.json(weights),
        "tuning": dg.MetadataValue.json({k: v for k, v in tuning.items()}),
        "evaluated_users_cap": cap,
        "validation_history_days": history,
        **({"note": note} if note else {}),
        **({"served_vs_popularity_test_ndcg10": test_ndcg[served] / test_ndcg["popularity"]}
           if served and test_ndcg.get("popularity") else {}),
    })
    yield dg.AssetCheckResult(
        check_name="served_beats_popularity", severity=dg.AssetCheckSeverity.WARN,
        passed=bool(served and test_ndcg) and test_ndcg[served] >= test_ndcg["popularity"],
        metadata={"served": served or "", "test_ndcg10": dg.MetadataValue.json(test_ndcg),
                  **({"note": note} if note else {})},
    )


ORDER = ("popularity", "category_popularity", "item_knn", "als", BLEND)
EVAL_SCHEMA = {"model": pl.String, "metric": pl.String, "k": pl.Int32, "value": pl.Float64,
               "window": pl.String, "served": pl.Boolean, "params": pl.String,
               "train_start": pl.Date, "split_date": pl.Date, "test_end": pl.Date,
               "users": pl.Int32, "eligible_users": pl.Int32, "gain_low": pl.Float64,
               "gain_high": pl.Float64}


def _why(served: str, rows: list, confidence: float) -> str:
    """Why the served model won, in words, from the validation rows."""
    val = {r["model"]: r for r in rows if r["window"] == "validation" and r["metric"] == "ndcg"}
    pop = val["popularity"]["value"]
    pct = f"{confidence:.0%}"
    if served != "popularity":
        r = val[served]
        return (f"{served}: ndcg@10 {r['value']:.4f} vs popularity {pop:.4f} on validation; "
                f"gain {r['gain_low']:+.4f} .. {r['gain_high']:+.4f} ({pct} paired bootstrap "
                f"over {r['users']:,} users), above 0, the best of the models whose gain is sure")
    others = ", ".join(f"{m} {r['gain_low']:+.4f} .. {r['gain_high']:+.4f}"
                       for m, r in val.items() if m != "popularity")
    return (f"popularity (ndcg@10 {pop:.4f} on validation): no model's gain over it is sure "
            f"({pct} paired bootstrap: {others})")


def _rows(metrics: dict, window: str, sp_: Split, chosen: dict, weights: dict, served: str,
          gains: dict[str, tuple[float, float]]) -> list:
    params = {
        "als": chosen, "item_knn": {"K": 20, "half_life_days": chosen["half_life_days"]},
        "popularity": {"days": _settings()["popularity_days"]},
        "category_popularity": {"days": _settings()["popularity_days"]}, BLEND: weights,
    }
    return [{"model": m, "metric": metric, "k": k, "value": v, "window": window,
             "served": m == served, "params": json.dumps(params[m], sort_keys=True),
             "train_start": sp_.start, "split_date": sp_.split, "test_end": sp_.end,
             "users": len(sp_.rows), "eligible_users": sp_.eligible_users,
             "gain_low": gains[m][0], "gain_high": gains[m][1]}
            for m, values in metrics.items() for (metric, k), v in values.items()]


ASSETS = [interactions, als_model, similar_items, rec_evaluation]
