"""Recommendations: interactions, ALS factors and top-N, similar items, offline evaluation."""

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl

from conv_assets.metadata import markdown_table, table_metadata
from conv_assets.recs.models import (
    AlsParams,
    all_metrics,
    content_matrix,
    csr,
    fit_als,
    item_neighbours,
    knn_ranking,
    popularity_ranking,
    recommend_scores,
)
from conv_assets.resources import Warehouse, event_day_range, replace_table, run_sql, sql_frame
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


def load_interactions(con, start: date, end: date) -> pl.DataFrame:
    types, values = weights()
    s = _settings()
    return sql_frame(con, "ml/select_interactions", start=start, end=end, weight_types=types,
                     weight_values=values, half_life_days=s["half_life_days"],
                     exclude_suspicious=load_settings().exclude_suspicious)


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


# Depends on suspicious_activity: with CONV_EXCLUDE_SUSPICIOUS, flagged users are left out.
@dg.asset(key=INTERACTIONS, deps=[CLEAN, dg.AssetKey(["analytics", "suspicious_activity"])],
          kinds={"duckdb", "scipy"}, pool="warehouse", **_COMMON)
def interactions(warehouse: Warehouse) -> dg.MaterializeResult:
    """User x product confidence weights over the CONV_RECS_WINDOW_DAYS (default 365) days before
    the cutoff: each (event type, order or session) touch weighs CONV_RECS_WEIGHTS (default
    view 1, cart 4, favorite 2, purchase 8, return 0 = dropped), decayed by a half-life of
    CONV_RECS_HALF_LIFE_DAYS (default 14; 0 = off), optional BM25 (CONV_RECS_BM25=1). Built in
    DuckDB, read through Arrow into a scipy CSR matrix."""
    s = _settings()
    with warehouse.connect() as con:
        end = event_day_range(con)[1]
        start = end - timedelta(days=s["window_days"])
        frame = load_interactions(con, start, end)
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
        "window": f"{start} .. {end} (end exclusive)",
    })


def model_dir(warehouse: Warehouse) -> Path:
    return Path(warehouse.path).resolve().parent / "models"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(ITEM_FACTORS, deps=[INTERACTIONS], kinds={"implicit", "duckdb"}, **_COMMON,
                     description="ALS item factors (FLOAT[]) per product of ml.interactions."),
        dg.AssetSpec(USER_FACTORS, deps=[INTERACTIONS], kinds={"implicit", "duckdb"}, **_COMMON,
                     description="ALS user factors (FLOAT[]) per user of ml.interactions."),
        dg.AssetSpec(
            RECOMMENDATIONS, deps=[INTERACTIONS], kinds={"implicit", "duckdb"}, **_COMMON,
            description=("Top CONV_RECS_TOP_N (default 10) products per active user (an event "
                         "in the last CONV_RECS_ACTIVE_DAYS days, default 90), already purchased "
                         "items excluded (CONV_RECS_EXCLUDE_PURCHASED); users the model has not "
                         "seen get the trailing popularity list (distinct buyers, 28 days)."),
        ),
    ],
    pool="warehouse",
    can_subset=False,
)
def als_model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> Iterator[dg.MaterializeResult]:
    """Fit implicit's ALS (CONV_ALS_FACTORS 64, CONV_ALS_REGULARIZATION 0.05, CONV_ALS_ALPHA 1,
    CONV_ALS_ITERATIONS 15, CONV_ALS_SEED 42; one BLAS thread) on ml.interactions, store the
    factors and recommendations, and save the model next to the warehouse (models/als.npz with
    models/als_ids.parquet) so it can be reloaded without retraining."""
    import time

    s = _settings()
    params = AlsParams.from_env()
    with warehouse.connect(read_only=True) as con:
        cutoff = event_day_range(con)[1]
        t0 = time.perf_counter()
        frame = sql_frame(con, "ml/select_interactions_table")
        read_s = time.perf_counter() - t0
        active = sql_frame(con, "ml/select_active_users", cutoff=cutoff, days=s["active_days"])
        popular = sql_frame(con, "ml/select_popularity", cutoff=cutoff, days=s["popularity_days"])
        purchased = sql_frame(con, "ml/select_purchased_before", cutoff=cutoff)
    # Connection closed: no lock is held while the model trains.
    t0 = time.perf_counter()
    user_items = matrix(frame)
    build_s = read_s + time.perf_counter() - t0  # DuckDB -> Arrow -> polars -> CSR
    users = frame.select("user_id", "user_index").unique().sort("user_index")
    items = frame.select("product_id", "item_index").unique().sort("item_index")
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
        ids, scores = recommend_scores(model.user_factors[rows], model.item_factors, exclude, s["top_n"])
        n = ids.shape[1]
        item_ids = items["product_id"].to_numpy()
        recs_parts.append(pl.DataFrame({
            "user_id": np.repeat(seen_users["user_id"].to_numpy(), n),
            "rank": np.tile(np.arange(1, n + 1, dtype=np.int32), len(rows)),
            "product_id": item_ids[ids.ravel()],
            "score": scores.ravel(),
        }).filter(pl.col("score") > -np.inf).with_columns(pl.lit("als").alias("source")))
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
        con.execute("BEGIN TRANSACTION")
        run_sql(con, "ml/replace_als_outputs")
        con.execute("COMMIT")
        i_meta = table_metadata(con, "ml.item_factors", item_factors.height, item_factors.head(5))
        u_meta = table_metadata(con, "ml.user_factors", user_factors.height, user_factors.head(5))
        r_meta = table_metadata(con, "ml.user_recommendations", recs.height, recs.head(10))
    context.log.info(f"ALS on {user_items.shape} with {user_items.nnz} nonzeros: build {build_s:.3f}s, "
                     f"fit {fit_s:.3f}s")
    timing = {"matrix_build_seconds": build_s, "fit_seconds": fit_s,
              "params": dg.MetadataValue.json(params.__dict__)}
    yield dg.MaterializeResult(asset_key=ITEM_FACTORS, metadata=i_meta | timing)
    yield dg.MaterializeResult(asset_key=USER_FACTORS, metadata=u_meta | timing)
    yield dg.MaterializeResult(asset_key=RECOMMENDATIONS, metadata=r_meta | {
        "by_source": dg.MetadataValue.json(dict(recs.group_by("source").agg(
            pl.col("user_id").n_unique()).iter_rows())),
    })


@dg.asset(key=SIMILAR, deps=[ITEM_FACTORS, CLEAN], kinds={"implicit", "scikit-learn", "duckdb"},
          pool="warehouse", **_COMMON)
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


@dg.asset(key=EVALUATION, deps=[INTERACTIONS], kinds={"implicit", "duckdb"}, pool="warehouse",
          check_specs=[dg.AssetCheckSpec("als_beats_popularity", asset=EVALUATION,
                                         description="Warns when ALS ndcg@10 is not above popularity's.")],
          **_COMMON)
def rec_evaluation(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Offline evaluation on a temporal split: train on the window before the split (the
    latest complete CONV_RECS_TEST_DAYS days, default 14, are the test), test on products each
    user bought then and had never bought before; users with training history only; full
    ranking over the training catalogue with previously purchased products excluded. Models:
    als (same settings as production), popularity (distinct buyers in the 28 days before the
    split) and item_knn (implicit's BM25 nearest neighbours, K=20). Metrics precision@10,
    recall@20, ndcg@10, map@10 and catalogue coverage@10, in long format."""
    s = _settings()
    params = AlsParams.from_env()
    with warehouse.connect(read_only=True) as con:
        end = event_day_range(con)[1]
        split = end - timedelta(days=s["test_days"])
        start = split - timedelta(days=s["window_days"])
        train = load_interactions(con, start, split)
        test = sql_frame(con, "ml/select_test_purchases", start=split, end=end)
        bought = sql_frame(con, "ml/select_purchased_before", cutoff=split)
        popular = sql_frame(con, "ml/select_popularity", cutoff=split, days=s["popularity_days"])
    rows, note, evaluated = [], "", 0
    if train.height:
        m = matrix(train, s["bm25"])
        users = train.select("user_id", "user_index").unique()
        items = train.select("product_id", "item_index").unique()
        rel = test.join(users, on="user_id").join(items, on="product_id")
        rel_by_user = rel.group_by("user_index").agg(pl.col("item_index")).sort("user_index")
        eval_rows = rel_by_user["user_index"].to_numpy()
        relevant = [set(x) for x in rel_by_user["item_index"].to_list()]
        evaluated = len(eval_rows)
        if evaluated:
            exclude = index_pairs(bought, users, items, m.shape)[eval_rows]
            model = fit_als(m, params)
            als_recs, _ = recommend_scores(model.user_factors[eval_rows], model.item_factors, exclude, 20)
            pop = np.zeros(m.shape[1], dtype=np.float32)
            pj = popular.join(items, on="product_id")
            pop[pj["item_index"].to_numpy()] = pj["users"].to_numpy()
            pop_recs = popularity_ranking(pop, exclude, 20)
            knn_recs = knn_ranking(m, eval_rows, exclude, 20)
            for name, recs in (("als", als_recs), ("popularity", pop_recs), ("item_knn", knn_recs)):
                for (metric, k), value in all_metrics(recs, relevant, m.shape[1]).items():
                    rows.append({"model": name, "metric": metric, "k": k, "value": value})
        else:
            note = "no user with training history bought a new product in the test period"
    else:
        note = "no interactions before the split"
    out = pl.DataFrame(rows, schema={"model": pl.String, "metric": pl.String, "k": pl.Int32,
                                     "value": pl.Float64}).with_columns(
        pl.lit(start).alias("train_start"), pl.lit(split).alias("split_date"),
        pl.lit(end).alias("test_end"), pl.lit(evaluated, pl.Int32).alias("users"))
    with warehouse.connect() as con:
        replace_table(con, "ml/replace_rec_evaluation", out)
        meta = table_metadata(con, "ml.rec_evaluation", out.height, out.head(15))
    ndcg = {r["model"]: r["value"] for r in rows if r["metric"] == "ndcg"}
    wide = (out.pivot(on="model", index=["metric", "k"], values="value") if out.height else out)
    context.log.info(f"ndcg@10: {ndcg} {note}")
    yield dg.MaterializeResult(metadata=meta | {
        "results": dg.MetadataValue.md(markdown_table(wide)),
        "split": f"train {start} .. {split}, test {split} .. {end} (ends exclusive)",
        **({"note": note} if note else {}),
        **({"als_vs_popularity_ndcg10": ndcg["als"] / ndcg["popularity"]}
           if ndcg.get("popularity") else {}),
    })
    yield dg.AssetCheckResult(
        check_name="als_beats_popularity", severity=dg.AssetCheckSeverity.WARN,
        passed=bool(ndcg) and ndcg["als"] > ndcg["popularity"],
        metadata={"ndcg10": dg.MetadataValue.json(ndcg), **({"note": note} if note else {})},
    )


ASSETS = [interactions, als_model, similar_items, rec_evaluation]
