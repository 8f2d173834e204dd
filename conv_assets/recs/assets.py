"""Recommendations: interactions, ALS factors and top-N, similar items, offline evaluation."""

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from conv_assets.choice import confident_choice
from conv_assets.metadata import markdown_table, table_metadata
from conv_assets.recs import ranker
from conv_assets.recs.models import (
    BLEND,
    BLEND_DEPTH,
    COVIS_K,
    REPURCHASE_FLOOR,
    AlsParams,
    Relevance,
    Trained,
    all_metrics,
    blend,
    buy_again_scores,
    co_visitation_matrix,
    content_matrix,
    crossfit_blend,
    csr,
    explain,
    fit_als,
    fit_blend,
    item_neighbours,
    ndcg_at_k,
    ndcg_per_user,
    ranked,
    recommend,
    train_candidates,
    user_categories,
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


def chosen_models(con) -> dict[str, dict[str, dict]]:
    """task -> model -> {"served": bool, "params": dict} as rec_evaluation chose them (a task is
    missing before it has run, or when it could not evaluate the task)."""
    out: dict[str, dict[str, dict]] = {}
    for r in sql_frame(con, "ml/select_chosen_models").iter_rows(named=True):
        out.setdefault(r["task"], {})[r["model"]] = {"served": r["served"],
                                                     "params": json.loads(r["params"])}
    return out


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
        als = chosen_models(con).get("discovery", {}).get("als")
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
            description=("Two lists of CONV_RECS_TOP_N (default 10) products per active user "
                         "(an event in the last CONV_RECS_ACTIVE_DAYS days, default 90): "
                         "discovery, from the model ml.rec_evaluation chose on the discovery "
                         "task, already purchased items excluded (CONV_RECS_EXCLUDE_PURCHASED), "
                         "and buy_again, from the model it chose on the repeat task; source "
                         "names the model, reason and because_product_id say why. Users the "
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
    s = _settings()
    with warehouse.connect(read_only=True) as con:
        cutoff = event_day_range(con)[1]
        t0 = time.perf_counter()
        frame = sql_frame(con, "ml/select_interactions_table")
        read_s = time.perf_counter() - t0
        active = sql_frame(con, "ml/select_active_users", cutoff=cutoff, days=s["active_days"])
        popular = sql_frame(con, "ml/select_popularity", cutoff=cutoff, days=s["popularity_days"])
        purchased = sql_frame(con, "ml/select_purchased_before", cutoff=cutoff)
        by_task = chosen_models(con)
        chosen, chosen_again = by_task.get("discovery", {}), by_task.get("repeat", {})
        users = frame.select("user_id", "user_index").unique().sort("user_index")
        items = frame.select("product_id", "item_index").unique().sort("item_index")
        item_cat = item_categories(sql_frame(con, "ml/select_products"), items)
        again = rhythm(con, cutoff - timedelta(days=s["window_days"]), cutoff, users, items)
        basket_rows = baskets(con, cutoff - timedelta(days=s["window_days"]), cutoff, items)
        served = next((m for m, c in chosen.items() if c["served"]), "als")
        served_again = next((m for m, c in chosen_again.items() if c["served"]), "buy_again")
        ctx = (ranker_context(con, frame, users, items, cutoff - timedelta(days=s["window_days"]),
                              cutoff) if ranker.RANKER in (served, served_again) else None)
    params = (AlsParams(**{k: v for k, v in chosen["als"]["params"].items() if k != "half_life_days"})
              if "als" in chosen else AlsParams.from_env())
    # Connection closed: no lock is held while the model trains.
    t0 = time.perf_counter()
    user_items = matrix(frame)
    build_s = read_s + time.perf_counter() - t0  # DuckDB -> Arrow -> polars -> CSR
    recs_parts, fallbacks = [], []
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
        t = train_candidates(user_items, params, per_item(popular, items, "users"), item_cat,
                             als=model, again=again,
                             covis=co_visitation(basket_rows, items.height))
        item_ids = items["product_id"].to_numpy()
        lists = {"discovery": servable(t, list_spec(served, chosen, "discovery"), warehouse,
                                       fallbacks),
                 "buy_again": servable(t, list_spec(served_again, chosen_again, "repeat"),
                                       warehouse, fallbacks)}
        served, served_again = lists["discovery"]["model"], lists["buy_again"]["model"]
        save_serving(warehouse, t, cutoff, params, lists)
        for name, spec in lists.items():
            ex = exclude if name == "discovery" else sp.csr_matrix(exclude.shape, dtype=np.float32)
            ids, scores, credit = serve(t, spec, rows, ex, s["top_n"], warehouse, ctx)
            reason, because = explain(t, credit, rows, ids)
            recs_parts.append(served_rows(seen_users["user_id"].to_numpy(), ids, scores, reason,
                                          because, item_ids).with_columns(
                pl.lit(spec["model"]).alias("source"), pl.lit(name).alias("list")))
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
            pl.lit("popular").alias("reason"), pl.lit(None, pl.String).alias("because_product_id"),
            pl.lit("popularity").alias("source"), pl.lit("discovery").alias("list"),
        ).select(*REC_SCHEMA))
    recs = (pl.concat(recs_parts) if recs_parts else pl.DataFrame(schema=REC_SCHEMA)
            ).with_columns(pl.lit(cutoff).alias("cutoff_date"))
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
    why_again = ("chosen by ml.rec_evaluation on the repeat task's validation (its "
                 "why_served_buy_again says why)" if chosen_again else
                 "ml.rec_evaluation has not chosen a model for the repeat task: buy_again by default")
    yield dg.MaterializeResult(asset_key=RECOMMENDATIONS, metadata=r_meta | {
        **({"fallbacks": "; ".join(fallbacks)} if fallbacks else {}),
        "served_model": served, "why_served": why,
        "served_buy_again_model": served_again, "why_served_buy_again": why_again,
        "users_by_list_and_source": dg.MetadataValue.json(
            {f"{k[0]}/{k[1]}": v for *k, v in recs.group_by("list", "source").agg(
                pl.col("user_id").n_unique()).sort("list", "source").iter_rows()}),
        "rows_by_reason": dg.MetadataValue.json(dict(
            recs.group_by("reason").len().sort("reason").iter_rows())),
    })


NEW_USERS = dg.AssetKey(["ml", "new_user_recommendations"])


@dg.asset(
    key=NEW_USERS, deps=[CLEAN, RECOMMENDATIONS], kinds={"implicit", "duckdb"}, pool=WRITE_POOL,
    # After each day's clean events (and after each fit), once nothing it reads is running.
    automation_condition=(dg.AutomationCondition.any_deps_updated().since_last_handled()
                          & ~dg.AutomationCondition.any_deps_in_progress()
                          & ~dg.AutomationCondition.in_progress()),
    **_COMMON)
def new_user_recommendations(context: dg.AssetExecutionContext, warehouse: Warehouse
                             ) -> dg.MaterializeResult:
    """Discovery lists for customers who arrived after the last fit (no event before its cutoff,
    so not in models/als_ids.parquet), from their own events since the cutoff (all of them,
    the latest day included), without refitting: the discovery list's served model as
    als_model saved it (models/serving.npz), over these users' interaction weights, with ALS
    factors recalculated for them from the saved item factors (implicit's recalculate_user),
    item_knn and co_visitation from the saved neighbours and pairs. Users whose products are
    all new to the model get the fit's popularity list (reason popular). Rebuilt after each
    day's clean events."""
    from implicit.cpu.als import AlternatingLeastSquares

    s = _settings()
    saved = load_serving(warehouse)
    ids_path = model_dir(warehouse) / "als_ids.parquet"
    if saved is None or not ids_path.exists():
        with warehouse.connect() as con:
            replace_table(con, "ml/replace_new_user_recommendations",
                          pl.DataFrame(schema=NEW_SCHEMA))
        return dg.MaterializeResult(metadata={"note": "als_model has not saved a model yet",
                                              "dagster/row_count": 0})
    spec, arrays = saved
    cutoff = date.fromisoformat(spec["cutoff"])
    known = pl.read_parquet(ids_path)
    items = (known.filter(pl.col("kind") == "item").select(
        pl.col("id").alias("product_id"), pl.col("index").cast(pl.Int32).alias("item_index"))
        .sort("item_index"))
    with warehouse.connect(read_only=True) as con:
        end = event_day_range(con)[1] + timedelta(days=1)  # the latest day included
        users = (sql_frame(con, "ml/select_new_users", start=cutoff, end=end)
                 .join(known.filter(pl.col("kind") == "user").select(pl.col("id").alias("user_id")),
                       on="user_id", how="anti")
                 .with_columns(pl.int_range(pl.len(), dtype=pl.Int32).alias("user_index")))
        frame = (load_interactions(con, cutoff, end, s["half_life_days"])
                 .drop("user_index", "item_index").join(users.select("user_id", "user_index"),
                                                        on="user_id")
                 .join(items, on="product_id"))
        bought = sql_frame(con, "ml/select_purchased_before", cutoff=end)
        discovery = spec["lists"]["discovery"]
        ctx = (ranker_context(con, frame, users, items, end - timedelta(days=s["window_days"]), end)
               if discovery["model"] == ranker.RANKER else None)
    m = csr(frame, users.height, items.height)
    als = AlternatingLeastSquares.load(str(model_dir(warehouse) / "als.npz"))
    with threadpool_limits(1, "blas"):
        als.user_factors = als.recalculate_user(np.arange(users.height), m)
    t = Trained(m, als, arrays["knn"], arrays["pop"], user_categories(m, arrays["item_cat"]),
                arrays["item_cat"], None, arrays["covis"])
    fallbacks: list[str] = []
    discovery = servable(t, discovery, warehouse, fallbacks)
    exclude = (index_pairs(bought, users, items, m.shape) if s["exclude_purchased"]
               else sp.csr_matrix(m.shape, dtype=np.float32))
    parts = [pl.DataFrame(schema=REC_SCHEMA)]
    has_events = m.getnnz(axis=1) > 0
    for model_spec, rows in ((discovery, np.flatnonzero(has_events)),
                             ({"model": "popularity", "weights": {}, "task": "discovery"},
                              np.flatnonzero(~has_events))):
        if not len(rows):
            continue
        ids, scores, credit = serve(t, model_spec, rows, exclude[rows], s["top_n"], warehouse, ctx)
        reason, because = explain(t, credit, rows, ids)
        parts.append(served_rows(users["user_id"].to_numpy()[rows], ids, scores, reason, because,
                                 items["product_id"].to_numpy()).with_columns(
            pl.lit(model_spec["model"]).alias("source"), pl.lit("discovery").alias("list")))
    out = pl.concat(parts).sort("user_id", "rank")
    out = out.with_columns(pl.lit(end).alias("cutoff_date"), pl.lit(cutoff).alias("model_cutoff_date"))
    with warehouse.connect() as con:
        replace_table(con, "ml/replace_new_user_recommendations", out)
        meta = table_metadata(con, "ml.new_user_recommendations", out.height, out.head(10))
    with_events = frame["user_id"].n_unique() if frame.height else 0
    return dg.MaterializeResult(metadata=meta | {
        "new_users": users.height, "with_events_on_known_products": with_events,
        "model_cutoff": str(cutoff), "events_until": str(end - timedelta(days=1)),
        "served_model": discovery["model"],
        **({"fallbacks": "; ".join(fallbacks)} if fallbacks else {}),
        "rows_by_reason": dg.MetadataValue.json(dict(out.group_by("reason").len().sort("reason").iter_rows())),
    })


def list_spec(model: str, chosen: dict, task: str) -> dict:
    """A served list as `serve` takes it: the model, the blend's weights and the ranker's
    candidates (as the evaluation chose them for `task`; empty when it did not evaluate them)."""
    return {"model": model, "task": task,
            "weights": chosen.get(BLEND, {}).get("params", {}),
            "ranker_models": chosen.get(ranker.RANKER, {}).get("params", {}).get("models", [])}


def serve(t: Trained, spec: dict, rows: np.ndarray, exclude: sp.csr_matrix, n: int,
          warehouse: Warehouse, ctx: ranker.Context | None):
    """A served list's top n for `rows`: spec = {"model", "weights", "task", "ranker_models"}
    (the ranker's context `ctx` needed when the model is the ranker). Returns ids, scores and
    each entry's base model (for the reasons)."""
    if spec["model"] == ranker.RANKER:
        import lightgbm as lgb

        booster = lgb.Booster(model_file=str(ranker_file(warehouse, spec["task"])))
        return ranker.recommend(booster, t, ctx, tuple(spec["ranker_models"]), rows, exclude, n)
    return recommend(t, spec["model"], spec["weights"], rows, exclude, n, task=spec["task"],
                     with_credit=True)


def serving_file(warehouse: Warehouse) -> Path:
    return model_dir(warehouse) / "serving.npz"


def save_serving(warehouse: Warehouse, t: Trained, cutoff: date, params: AlsParams,
                 lists: dict) -> None:
    """What serving customers the fit has not seen needs beside models/als.npz: the item x item
    neighbours (item_knn) and pairs (co_visitation), popularity, categories, and the served
    lists' models and weights. Items only: no user id is in it."""
    def parts(name: str, m: sp.csr_matrix | None) -> dict:
        if m is None:
            return {}
        m = m.tocsr()
        return {f"{name}_data": m.data, f"{name}_indices": m.indices, f"{name}_indptr": m.indptr}

    np.savez(serving_file(warehouse), pop=t.pop,
             item_cat=t.item_cat if t.item_cat is not None else np.zeros(0, np.int64),
             spec=np.array(json.dumps({"cutoff": str(cutoff), "als": params.__dict__,
                                       "lists": lists, "n_items": t.matrix.shape[1]})),
             **parts("knn", t.knn), **parts("covis", t.covis))


def load_serving(warehouse: Warehouse) -> tuple[dict, dict] | None:
    """save_serving's spec and arrays (None before als_model has saved them)."""
    path = serving_file(warehouse)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as z:
        spec = json.loads(str(z["spec"]))
        n = spec["n_items"]
        arrays = {"pop": z["pop"], "item_cat": z["item_cat"] if len(z["item_cat"]) else None}
        for name in ("knn", "covis"):
            arrays[name] = (sp.csr_matrix((z[f"{name}_data"], z[f"{name}_indices"],
                                           z[f"{name}_indptr"]), shape=(n, n))
                            if f"{name}_data" in z else None)
    return spec, arrays


def servable(t: Trained, spec: dict, warehouse: Warehouse, fallbacks: list) -> dict:
    """`spec` (list_spec), or what replaces its model when this training cannot serve it (said
    in `fallbacks`): a base model the data no longer supports (e.g. categories gone since the
    evaluation), or a ranker whose saved file or candidates are missing, gives the blend when it
    was evaluated (it has weights), else als (discovery) or buy_again (repeat), else
    popularity."""
    model, task = spec["model"], spec["task"]
    ok = model in (*t.models(task), BLEND)
    if model == ranker.RANKER:
        ok = (ranker_file(warehouse, task).exists() and bool(spec["ranker_models"])
              and set(spec["ranker_models"]) <= set(t.models(task)))
    if ok:
        return spec
    default = next(m for m in ("als" if task == "discovery" else "buy_again", "popularity")
                   if m in t.models(task))
    new = BLEND if spec["weights"] and model != BLEND else default
    fallbacks.append(f"{task}: {model} cannot be served on this data, {new} instead")
    return spec | {"model": new}


REC_SCHEMA = {"user_id": pl.String, "rank": pl.Int32, "product_id": pl.String, "score": pl.Float32,
              "reason": pl.String, "because_product_id": pl.String, "source": pl.String,
              "list": pl.String}
NEW_SCHEMA = REC_SCHEMA | {"cutoff_date": pl.Date, "model_cutoff_date": pl.Date}


def served_rows(user_ids: np.ndarray, ids: np.ndarray, scores: np.ndarray, reason: np.ndarray,
                because: np.ndarray, item_ids: np.ndarray) -> pl.DataFrame:
    """Long rows (user, rank, product, score, reason, because) of top-n arrays (-1 = none)."""
    n = ids.shape[1]
    keep = ids.ravel() >= 0
    b = because.ravel()[keep]
    return pl.DataFrame({
        "user_id": pl.Series(np.repeat(user_ids, n)[keep], dtype=pl.String),
        "rank": np.tile(np.arange(1, n + 1, dtype=np.int32), len(user_ids))[keep],
        "product_id": pl.Series(item_ids[ids.ravel()[keep]], dtype=pl.String),
        "score": scores.ravel()[keep].astype(np.float32),
        "reason": pl.Series(reason.ravel()[keep].astype(str), dtype=pl.String),
        "because_product_id": pl.Series(item_ids[np.maximum(b, 0)] if len(item_ids) else [],
                                        dtype=pl.String).scatter(np.flatnonzero(b < 0), None),
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
    in [split, end): for the discovery task those never bought before (and the lists exclude
    what was bought), for the repeat task all of them (nothing excluded)."""
    task: str
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
    again: sp.csr_matrix | None  # buy_again's scores of every user's past purchases
    baskets: pl.DataFrame  # co_visitation's input (`baskets`); its matrix is built outside SQL
    context: ranker.Context  # the ranker's inputs beyond the candidates

    def matrix(self, con, half_life: float) -> sp.csr_matrix:
        """The training matrix with interactions decayed by `half_life`, on this split's indices."""
        if half_life == self.half_life:
            return csr(self.frame, self.users.height, self.items.height)
        frame = load_interactions(con, self.start, self.split, half_life).select(
            "user_id", "product_id", "weight")
        joined = frame.join(self.users, on="user_id").join(self.items, on="product_id")
        return csr(joined, self.users.height, self.items.height)


def load_splits(con, start: date, split: date, end: date, max_users: int, seed: int,
                products: pl.DataFrame) -> dict[str, Split]:
    """The discovery and repeat splits at `split` (one training frame for both); a task is
    missing when no user with history bought anything it counts in [split, end)."""
    frame = load_interactions(con, start, split, _settings()["half_life_days"])
    if not frame.height:
        return {}
    users = frame.select("user_id", "user_index").unique().sort("user_index")
    items = frame.select("product_id", "item_index").unique().sort("item_index")
    shared = (rhythm(con, start, split, users, items), baskets(con, start, split, items),
              ranker_context(con, frame, users, items, start, split))
    splits = {task: load_split(con, start, split, end, max_users, seed, products, task, frame,
                               *shared) for task in TASKS}
    return {task: sp_ for task, sp_ in splits.items() if sp_ is not None}


TASKS = ("discovery", "repeat")


def load_split(con, start: date, split: date, end: date, max_users: int, seed: int,
               products: pl.DataFrame, task: str, frame: pl.DataFrame,
               again: sp.csr_matrix | None, basket_rows: pl.DataFrame,
               context: ranker.Context) -> Split | None:
    half_life = _settings()["half_life_days"]
    users = frame.select("user_id", "user_index").unique().sort("user_index")
    items = frame.select("product_id", "item_index").unique().sort("item_index")
    test = sql_frame(con, "ml/select_test_purchases" if task == "discovery"
                     else "ml/select_window_purchases", start=split, end=end)
    rel = (test.join(users, on="user_id").join(items, on="product_id")
           .group_by("user_index").agg(pl.col("item_index")).sort("user_index"))
    eligible = rel.height
    if rel.height > max_users:  # a seeded random sample, in user order
        rel = rel.sample(max_users, seed=seed).sort("user_index")
    if not rel.height:
        return None
    rows = rel["user_index"].to_numpy()
    if task == "discovery":
        bought = sql_frame(con, "ml/select_purchased_before", cutoff=split)
        exclude = index_pairs(bought, users, items, (users.height, items.height))[rows]
    else:
        exclude = sp.csr_matrix((len(rows), items.height), dtype=np.float32)
    popular = sql_frame(con, "ml/select_popularity", cutoff=split, days=_settings()["popularity_days"])
    return Split(task, start, split, end, frame, half_life, users, items, rows,
                 Relevance([set(x) for x in rel["item_index"].to_list()], items.height), exclude,
                 per_item(popular, items, "users"), item_categories(products, items), eligible,
                 again, basket_rows, context)


def baskets(con, start: date, end: date, items: pl.DataFrame) -> pl.DataFrame:
    """co_visitation's baskets in [start, end) on the given item indices, decayed by
    CONV_RECS_HALF_LIFE_DAYS (the setting, not the tuned half-life, so evaluation and serving
    build it alike); baskets of more than CONV_RECS_BASKET_MAX (100) products left out."""
    return sql_frame(con, "ml/select_baskets", start=start, end=end,
                     half_life_days=_settings()["half_life_days"],
                     max_products=int(os.environ.get("CONV_RECS_BASKET_MAX", "100"))
                     ).join(items, on="product_id").sort("basket", "item_index")


def co_visitation(b: pl.DataFrame, n_items: int) -> sp.csr_matrix:
    """co_visitation's items x items pair weights from `baskets` rows (no connection needed)."""
    # In a fixed order, so float sums (and ties in the lists) repeat from run to run.
    codes = b["basket"].rank("dense").to_numpy() - 1 if b.height else np.zeros(0, int)
    return co_visitation_matrix(codes.astype(np.int64), b["item_index"].to_numpy(),
                                b["weight"].to_numpy(), n_items)


def rhythm(con, start: date, cutoff: date, users: pl.DataFrame, items: pl.DataFrame
           ) -> sp.csr_matrix | None:
    """buy_again's scores (users x items) of the purchases in [start, cutoff); None without any."""
    st = (sql_frame(con, "ml/select_purchase_rhythm", start=start, cutoff=cutoff)
          .join(users, on="user_id").join(items, on="product_id"))
    if not st.height:
        return None
    score = buy_again_scores(st["days"].to_numpy(), st["span"].to_numpy(), st["since"].to_numpy(),
                             st["item_index"].to_numpy())
    return csr(st.with_columns(pl.Series("weight", score)), users.height, items.height)


def ranker_context(con, frame: pl.DataFrame, users: pl.DataFrame, items: pl.DataFrame,
                   start: date, cutoff: date) -> ranker.Context:
    """The ranker's inputs for the training window [start, cutoff) whose interactions (with
    last_event_date) are `frame`, on the given indices."""
    since = frame.select("user_index", "item_index", weight=(
        (pl.lit(cutoff) - pl.col("last_event_date")).dt.total_days() + 1).cast(pl.Float32))
    pop_7d = per_item(sql_frame(con, "ml/select_popularity", cutoff=cutoff, days=7), items, "users")
    price = per_item(sql_frame(con, "ml/select_item_prices", start=start, cutoff=cutoff), items,
                     "price", missing=np.nan)
    return ranker.Context(csr(since, users.height, items.height),
                          pop_7d / pop_7d.max() if pop_7d.size and pop_7d.max() > 0 else pop_7d,
                          price)


def per_item(frame: pl.DataFrame, items: pl.DataFrame, column: str,
             missing: float = 0.0) -> np.ndarray:
    out = np.full(items.height, missing, dtype=np.float32)
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
    """Every base model's top BLEND_DEPTH for the split's users (its task's candidates): what
    the blend search fuses and the metrics read."""
    return {m: ranked(t, m, sp_.rows, sp_.exclude, BLEND_DEPTH) for m in t.models(sp_.task)}


def evaluate_all(lists: dict[str, np.ndarray], sp_: Split, weights: dict,
                 fixed: dict[str, np.ndarray] | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """Metrics of every candidate's top 20, from the base models' top-BLEND_DEPTH `lists` (their
    first 20 ranks, and the blend fused from them with `weights`, as `recommend` does) and the
    lists in `fixed` (model -> users x 20, e.g. the out-of-fold blend, the ranker), and each
    candidate's per-user ndcg@10 (for the bootstrap)."""
    tops = {m: v[:, :20] for m, v in lists.items()} | {
        BLEND: blend(lists, weights, sp_.items.height, 20)} | (fixed or {})
    rel = sp_.relevance
    return ({m: all_metrics(recs, rel) for m, recs in tops.items()},
            {m: ndcg_per_user(rel(recs), rel.n_relevant, 10) for m, recs in tops.items()})


def ranker_pairs(t: Trained, sp_: Split, models: tuple[str, ...],
                 lists: dict[str, np.ndarray] | None = None):
    """The ranker's candidates, features and labels for a split's users: (fusion, X, y, r, c)."""
    if lists is None:
        lists = {m: ranked(t, m, sp_.rows, sp_.exclude, ranker.RANK_DEPTH) for m in models}
    f, r, c, X = ranker.candidates(t, sp_.context, lists, sp_.rows, models)
    return f, X, ranker.labels(sp_.relevance, f, r, c), r, c


def train_ranker(tp: Trained, pre: Split, t: Trained, val: Split, lists: dict, seed: int):
    """The ranker of a task: trained on the window before validation (`pre`, candidates `tp`),
    its trees chosen on validation. Returns the out-of-fold validation lists, the final model
    (trees = the mean the two halves chose) and its params; (None, None, {}) when the window
    before validation holds no purchase among the candidates."""
    models = tuple(m for m in t.models(val.task) if m in tp.models(val.task))
    _, PX, py, pr, _ = ranker_pairs(tp, pre, models)
    vf, VX, vy, vr, vc = ranker_pairs(t, val, models, lists)
    oof, trees = ranker.crossfit((PX, py, pr), (VX, vy, vr, vc), vf, len(val.rows), seed)
    if oof is None:
        return None, None, {}
    n_trees = max(1, round(float(np.mean(trees))))
    final, _ = ranker.fit((PX, py, pr), seed, trees=n_trees)
    return oof, final, {"models": list(models), "trees": n_trees, "trees_by_half": trees,
                        "depth": ranker.RANK_DEPTH, "train_start": str(pre.start),
                        "labels": f"{pre.split} .. {pre.end}",
                        "features": ranker.feature_names(models),
                        "training_pairs": int(len(py)), "training_positives": int(py.sum())}


def ranker_file(warehouse: Warehouse, task: str) -> Path:
    return model_dir(warehouse) / f"ranker_{task}.txt"


@dg.asset(key=EVALUATION, deps=[CLEAN, dg.AssetKey(["analytics", "suspicious_activity"])],
          kinds={"implicit", "duckdb"}, pool=WRITE_POOL,
          check_specs=[dg.AssetCheckSpec(
              "served_beats_popularity", asset=EVALUATION,
              description="Warns when a task's served model has a test ndcg@10 below popularity's.")],
          **_COMMON)
def rec_evaluation(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Chooses the served recommender of each task on a validation window and reports it on a
    later test window it never saw. Windows: test = the latest complete CONV_RECS_TEST_DAYS
    days (default 14), validation = the same length before it. Tasks: discovery (products the
    user bought in the window and never before; purchased items excluded from the lists) and
    repeat (every product bought in the window; nothing excluded). Candidates: als, item_knn
    (BM25, K=20, popularity fills the ranks its neighbours leave), popularity (distinct buyers
    in the 28 days before the split), category_popularity (popularity within the user's
    categories, where the source has categories), co_visitation (products in the same
    sessions or orders as the user's, recency-weighted), buy_again (repeat task: the user's past
    purchases by repurchase rhythm and frequency) and blend (weighted reciprocal-rank fusion of
    the others).
    ranker (LightGBM lambdarank over the union of the others' top 50, trained on the window
    before validation, its trees chosen by early stopping on validation, out of fold; saved
    beside the warehouse as models/ranker_<task>.txt, the model als_model serves).
    On validation (trained on events before it): a time-boxed coordinate search
    (CONV_RECS_TUNING_SECONDS, default 120) over the decay half-life and ALS factors,
    regularization and alpha, on the discovery task (the repeat task when discovery has no
    user); per task the blend weights (its own validation figures are out of fold: the users in
    two seeded halves, each scored with the weights fitted on the other). Each task's served
    model: popularity, unless another candidate's validation ndcg@10 gain over it is sure, i.e.
    the lower bound of a paired bootstrap over the evaluated users (CONV_RECS_BOOTSTRAP
    resamples, default 2,000, seeded; CONV_RECS_CONFIDENCE 0.90 two-sided) is above 0; of
    those, the best. The intervals are gain_low/gain_high.
    Then everything is refitted on the events before the test window and scored there.
    Users: those with training history who bought what the task counts in the window, a seeded
    sample of at most CONV_RECS_EVAL_USERS (default 20,000). Metrics precision@10, recall@20,
    ndcg@10, map@10, catalogue coverage@10, in long format."""
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
        vals = load_splits(con, val_start - window, val_start, test_start, cap, base.seed, products)
        # The ranker's training window: the same length before validation.
        pres = load_splits(con, val_start - days - window, val_start - days, val_start, cap,
                           base.seed, products)
        main = next(iter(vals.values()), None)  # discovery, else repeat: the tuning's split
        matrices = {hl: main.matrix(con, hl) for hl in half_lives(s["half_life_days"])} if main else {}
    # Connection closed: no lock is held while the candidates train.
    notes = [f"{task}: no user with history bought what it counts in the validation window"
             for task in TASKS if task not in vals]
    rows, served, chosen, weights, tuning, edges = [], {}, None, {}, {}, {}
    ranker_s = 0.0
    rankers, ranker_params = {}, {}
    model_dir(warehouse).mkdir(parents=True, exist_ok=True)
    # Days of events the validation models train on: the tuning's choices rest on them.
    history = max((val_start - first).days, 0)
    if main is not None and history < s["test_days"]:
        context.log.warning(f"the validation models train on {history} days of history only "
                            f"(before {val_start}): the tuning choices rest on little data")
    if main is not None:
        tuning = tune(matrices, main, base, s["half_life_days"], budget, context.log.info)
        chosen, tuned = tuning.pop("best"), tuning.pop("model")
        params = AlsParams(**{k: v for k, v in chosen.items() if k != "half_life_days"})
        t = train_candidates(matrices[chosen["half_life_days"]], params, main.popularity,
                             main.item_cat, als=tuned, again=main.again,
                             covis=co_visitation(main.baskets, main.items.height))
        tp = None
        pre_main = next(iter(pres.values()), None)
        t0 = time.perf_counter()
        if pre_main is not None:
            with warehouse.connect(read_only=True) as con:
                pre_matrix = pre_main.matrix(con, chosen["half_life_days"])
            tp = train_candidates(pre_matrix, params, pre_main.popularity, pre_main.item_cat,
                                  again=pre_main.again,
                                  covis=co_visitation(pre_main.baskets, pre_main.items.height))
        ranker_s = time.perf_counter() - t0
        notes += [f"{task}: no ranker (no user with history bought what it counts in the "
                  f"window before validation)" for task in vals if task not in pres]
        for task, val in vals.items():
            lists = base_lists(t, val)
            weights[task], _ = fit_blend(lists, val.relevance, val.items.height)
            # The blend's and the ranker's validation figures are out of fold (weights fitted,
            # trees chosen, on the other half of the users), so the search does not flatter them.
            fixed = {BLEND: crossfit_blend(lists, val.relevance, val.items.height, base.seed)}
            if task in pres:
                t0 = time.perf_counter()
                oof, rankers[task], ranker_params[task] = train_ranker(
                    tp, pres[task], t, val, lists, base.seed)
                ranker_s += time.perf_counter() - t0
                if oof is not None:
                    fixed[ranker.RANKER] = oof
                    rankers[task].booster_.save_model(str(ranker_file(warehouse, task)))
            metrics, per_user = evaluate_all(lists, val, weights[task], fixed)
            # Popularity is served unless another model beats it on validation for sure (the
            # lower bound of a paired bootstrap of the per-user ndcg@10 difference above 0);
            # a more complex model only when its gain over the simpler ones is sure too.
            served[task], gains, edges[task] = confident_choice(
                per_user, ORDER, "popularity", resamples, base.seed, confidence)
            rows += _rows(metrics, "validation", val, chosen, weights[task], served[task], gains,
                          ranker_params.get(task))
        with warehouse.connect(read_only=True) as con:
            tests = load_splits(con, test_start - window, test_start, end, cap, base.seed, products)
            main_test = next(iter(tests.values()), None)
            test_matrix = main_test.matrix(con, chosen["half_life_days"]) if main_test else None
        notes += [f"{task}: no user with history bought what it counts in the test window"
                  for task in served if task not in tests]
        if main_test is not None:
            tt = train_candidates(test_matrix, params, main_test.popularity, main_test.item_cat,
                                  again=main_test.again,
                                  covis=co_visitation(main_test.baskets, main_test.items.height))
            for task, test in tests.items():
                if task not in served:
                    continue
                lists = base_lists(tt, test)
                fixed = {}
                if rankers.get(task) is not None:  # the model trained before validation
                    f, X, _, r, c = ranker_pairs(tt, test, tuple(ranker_params[task]["models"]),
                                                 lists)
                    fixed[ranker.RANKER] = ranker.rank_with(rankers[task], f, r, c, X, 20)
                metrics, per_user = evaluate_all(lists, test, weights[task], fixed)
                # Reported, never used: how sure the test window is of each gain.
                _, gains, _ = confident_choice(per_user, ORDER, "popularity", resamples, base.seed,
                                            confidence)
                rows += _rows(metrics, "test", test, chosen, weights[task], served[task], gains,
                              ranker_params.get(task))
    note = "; ".join(notes)
    out = pl.DataFrame(rows, schema=EVAL_SCHEMA)
    with warehouse.connect() as con:
        replace_table(con, "ml/replace_rec_evaluation", out)
        meta = table_metadata(con, "ml.rec_evaluation", out.height, out.head(15))
    ndcg = {(r["task"], r["window"], r["model"]): r["value"] for r in rows if r["metric"] == "ndcg"}
    test_ndcg = {task: {m: v for (tk, w, m), v in ndcg.items() if tk == task and w == "test"}
                 for task in served}
    wide = (out.filter(pl.col("metric") == "ndcg").pivot(on="window", index=["task", "model"],
                                                         values="value") if out.height else out)
    why = {task: _why(task, m, rows, confidence, edges[task]) for task, m in served.items()}
    context.log.info(f"served {why}; test ndcg@10 {test_ndcg} {note}")
    losing = {task: m for task, m in served.items() if test_ndcg[task]
              and test_ndcg[task][m] < test_ndcg[task]["popularity"]}
    yield dg.MaterializeResult(metadata=meta | {
        "served_model": served.get("discovery") or "als",
        "served_buy_again_model": served.get("repeat") or "buy_again",
        "why_served": why.get("discovery") or f"als (not evaluated: {note})",
        "why_served_buy_again": why.get("repeat") or f"buy_again (not evaluated: {note})",
        "ndcg10": dg.MetadataValue.md(markdown_table(wide)),
        "chosen_params": dg.MetadataValue.json(chosen or {}),
        "blend_weights": dg.MetadataValue.json(weights),
        "tuning": dg.MetadataValue.json({k: v for k, v in tuning.items()}),
        # The ranker's own cost: its candidates on the window before validation, its features
        # and its LightGBM fits (not its test-window scoring).
        "ranker_seconds": round(ranker_s, 1),
        "evaluated_users_cap": cap,
        "validation_history_days": history,
        **({"note": note} if note else {}),
        **{f"served_vs_popularity_test_ndcg10_{task}": v[served[task]] / v["popularity"]
           for task, v in test_ndcg.items() if v.get("popularity")},
    })
    yield dg.AssetCheckResult(
        check_name="served_beats_popularity", severity=dg.AssetCheckSeverity.WARN,
        passed=any(test_ndcg.values()) and not losing,
        metadata={"served": dg.MetadataValue.json(served), "test_ndcg10": dg.MetadataValue.json(test_ndcg),
                  **({"below_popularity": dg.MetadataValue.json(losing)} if losing else {}),
                  **({"note": note} if note else {})},
    )


# The candidates from the simplest to the most complex: the choice prefers the simpler one when
# the more complex one's gain over it is within noise.
ORDER = ("popularity", "category_popularity", "buy_again", "co_visitation", "item_knn", "als", BLEND,
         ranker.RANKER)
EVAL_SCHEMA = {"task": pl.String, "model": pl.String, "metric": pl.String, "k": pl.Int32,
               "value": pl.Float64, "window": pl.String, "served": pl.Boolean,
               "params": pl.String, "train_start": pl.Date, "split_date": pl.Date,
               "test_end": pl.Date, "users": pl.Int32, "eligible_users": pl.Int32,
               "gain_low": pl.Float64, "gain_high": pl.Float64}


def _why(task: str, served: str, rows: list, confidence: float,
         edge: tuple[str, tuple[float, float]] | None) -> str:
    """Why the task's served model won, in words, from its validation rows (and `edge`: the
    better-scoring, more complex model it was preferred to, with its gain over it)."""
    val = {r["model"]: r for r in rows
           if r["task"] == task and r["window"] == "validation" and r["metric"] == "ndcg"}
    pop = val["popularity"]["value"]
    pct = f"{confidence:.0%}"
    if served != "popularity":
        r = val[served]
        head = (f"{served}: ndcg@10 {r['value']:.4f} vs popularity {pop:.4f} on the {task} "
                f"task's validation; gain {r['gain_low']:+.4f} .. {r['gain_high']:+.4f} ({pct} "
                f"paired bootstrap over {r['users']:,} users), above 0")
        if edge is None:
            return f"{head}, the best of the models whose gain is sure"
        best, (lo, hi) = edge
        return (f"{head}; {best} scores higher ({val[best]['value']:.4f}) but its gain over "
                f"{served} is {lo:+.4f} .. {hi:+.4f}, not sure, so the simpler {served} is served")
    others = ", ".join(f"{m} {r['gain_low']:+.4f} .. {r['gain_high']:+.4f}"
                       for m, r in val.items() if m != "popularity")
    return (f"popularity (ndcg@10 {pop:.4f} on the {task} task's validation): no model's gain "
            f"over it is sure ({pct} paired bootstrap: {others})")


def _rows(metrics: dict, window: str, sp_: Split, chosen: dict, weights: dict, served: str,
          gains: dict[str, tuple[float, float]], ranker_params: dict | None = None) -> list:
    params = {
        "als": chosen, "item_knn": {"K": 20, "half_life_days": chosen["half_life_days"]},
        "popularity": {"days": _settings()["popularity_days"]},
        "category_popularity": {"days": _settings()["popularity_days"]},
        "buy_again": {"floor": REPURCHASE_FLOOR},
        "co_visitation": {"partners": COVIS_K, "half_life_days": _settings()["half_life_days"]},
        BLEND: weights, ranker.RANKER: ranker_params or {},
    }
    return [{"task": sp_.task, "model": m, "metric": metric, "k": k, "value": v,
             "window": window, "served": m == served,
             "params": json.dumps(params[m], sort_keys=True), "train_start": sp_.start,
             "split_date": sp_.split, "test_end": sp_.end, "users": len(sp_.rows),
             "eligible_users": sp_.eligible_users, "gain_low": gains[m][0],
             "gain_high": gains[m][1]}
            for m, values in metrics.items() for (metric, k), v in values.items()]


ASSETS = [interactions, als_model, new_user_recommendations, similar_items, rec_evaluation]
