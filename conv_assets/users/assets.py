"""User intelligence: features, RFM segments, propensity, suspicious activity, audiences.

Everything is as of the *cutoff*: the latest day with events, exclusive (the last day may still be
filling up, so the latest complete day is the one before it).
"""

import os

import dagster as dg
import polars as pl

from conv_assets.metadata import markdown_table, png_markdown, table_metadata
from conv_assets.resources import (
    WRITE_POOL,
    Warehouse,
    event_day_range,
    query_frame,
    replace_table,
    run_sql,
    sql_frame,
)
from conv_assets.settings import load_settings
from conv_assets.users.models import (
    propensity_cutoffs,
    score_suspicious,
    segment_users,
    train_propensity,
)

CLEAN = dg.AssetKey(["clean", "events"])
FEATURES = dg.AssetKey(["analytics", "user_features"])
SEGMENTS = dg.AssetKey(["analytics", "user_segments"])
SUMMARY = dg.AssetKey(["analytics", "segment_summary"])
PROPENSITY = dg.AssetKey(["analytics", "purchase_propensity"])
SUSPICIOUS = dg.AssetKey(["analytics", "suspicious_activity"])
AUDIENCES = dg.AssetKey(["analytics", "campaign_audiences"])
_COMMON = {"group_name": "users", "owners": ["team:analytics"], "pool": WRITE_POOL}


def _features(con, cutoff) -> pl.DataFrame:
    return sql_frame(con, "analytics/select_user_features", cutoff=cutoff,
                     exclude_suspicious=load_settings().exclude_suspicious)


def _meta(con, table: str, frame: pl.DataFrame) -> dict:
    return table_metadata(con, table, frame.height, frame.head(10))


@dg.asset(key=SUSPICIOUS, deps=[CLEAN], kinds={"scikit-learn", "duckdb"}, **_COMMON)
def suspicious_activity(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Users (all, scored) and sessions (flagged) whose behaviour is unlike a shopper's:
    event bursts (>= 30 browsing events in a minute), huge sessions (>= 500 browsing events), many views and never
    a cart (>= 200), abnormal order size or value (>= 10x the 95th percentile of users' largest
    orders), many returns (>= 5 and >= half the purchases). An IsolationForest over behaviour
    rates scores every user; its top 1% outliers get the reason isolation_forest for review but
    are not flagged by it alone. Each row lists its reasons. With
    CONV_EXCLUDE_SUSPICIOUS=1, flagged users are left out of model training and funnels."""
    from conv_assets.users.models import BURST_PER_MINUTE, HUGE_SESSION

    with warehouse.connect(read_only=True) as con:
        _, cutoff = event_day_range(con)
        profile = sql_frame(con, "analytics/select_activity_profile", cutoff=cutoff)
        sessions = sql_frame(con, "analytics/select_suspicious_sessions", cutoff=cutoff,
                             huge_session=HUGE_SESSION, burst_per_minute=BURST_PER_MINUTE)
    users = score_suspicious(profile).with_columns(pl.lit(cutoff).alias("cutoff_date"))
    session_rows = sessions.select(
        pl.lit("session").alias("level"), "user_id", "session_id", pl.lit(cutoff).alias("cutoff_date"),
        pl.lit(None, pl.Float64).alias("anomaly_score"), pl.lit(True).alias("flagged"),
        pl.when(pl.col("events") >= HUGE_SESSION).then(pl.lit("huge_session"))
        .otherwise(pl.lit("event_burst")).alias("reasons"),
        "events", "max_events_per_minute", pl.col("events").alias("max_session_events"),
    )
    out = pl.concat([users, session_rows], how="diagonal_relaxed")
    with warehouse.connect() as con:
        replace_table(con, "analytics/replace_suspicious_activity", out)
        meta = _meta(con, "analytics.suspicious_activity", out)
    flagged = users.filter(pl.col("flagged"))
    reasons = (flagged.select(pl.col("reasons").str.split(",")).explode("reasons")
               .group_by("reasons").len().sort("len", descending=True))
    context.log.info(f"{flagged.height} of {users.height} users flagged")
    return dg.MaterializeResult(metadata=meta | {
        "flagged_users": flagged.height, "flagged_sessions": session_rows.height,
        "by_reason": dg.MetadataValue.json({r: int(n) for r, n in reasons.iter_rows()}),
    })


@dg.asset(key=FEATURES, deps=[CLEAN, SUSPICIOUS], kinds={"duckdb"}, **_COMMON)
def user_features(warehouse: Warehouse) -> dg.MaterializeResult:
    """Per user as of the cutoff, from events strictly before it: recency, frequency, monetary
    value, tenure, views, cart adds, purchases, returns, personal view->purchase rate, distinct
    categories, average basket, days since the last cart add. Point-in-time correct."""
    with warehouse.connect() as con:
        _, cutoff = event_day_range(con)
        feats = _features(con, cutoff)
        replace_table(con, "analytics/replace_user_features", feats)
        meta = _meta(con, "analytics.user_features", feats)
    return dg.MaterializeResult(metadata=meta | {"cutoff_date": str(cutoff)})


@dg.asset(key=SEGMENTS, deps=[FEATURES], kinds={"scikit-learn", "duckdb"}, **_COMMON)
def user_segments(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """RFM segments: k-means (scikit-learn) on standardised log1p(recency, frequency, monetary)
    of users with an order, k chosen in [CONV_SEGMENT_K_MIN, CONV_SEGMENT_K_MAX] (default 3..6)
    by silhouette. Segment names (champions, loyal, new, promising, at risk, hibernating, ...)
    come from the centroids, so a name keeps its meaning between runs. Users without an order
    are 'prospects'."""
    k_min = int(os.environ.get("CONV_SEGMENT_K_MIN", "3"))
    k_max = int(os.environ.get("CONV_SEGMENT_K_MAX", "6"))
    with warehouse.connect(read_only=True) as con:
        feats = query_frame(con, "SELECT * FROM analytics.user_features", {})
    seg = segment_users(feats, k_min, k_max)
    cutoff = feats["cutoff_date"][0] if feats.height else None
    labels = seg.labels.with_columns(pl.lit(cutoff, pl.Date).alias("cutoff_date"))
    with warehouse.connect() as con:
        replace_table(con, "analytics/replace_user_segments", labels)
        meta = _meta(con, "analytics.user_segments", labels)
    sizes = labels.group_by("segment").len().sort("len", descending=True)
    context.log.info(f"k={seg.k}, silhouettes {seg.silhouettes}")
    return dg.MaterializeResult(metadata=meta | {
        "k": seg.k,
        "silhouette_by_k": dg.MetadataValue.json({str(k): v for k, v in seg.silhouettes.items()}),
        "segment_sizes": dg.MetadataValue.json({s: int(n) for s, n in sizes.iter_rows()}),
    })


@dg.asset(key=SUMMARY, deps=[SEGMENTS], kinds={"duckdb", "matplotlib"}, **_COMMON)
def segment_summary(warehouse: Warehouse) -> dg.MaterializeResult:
    """Per segment: size, share of users, revenue and revenue share, conversion rate of its
    sessions in the last 28 days, average recency, frequency and monetary value; with a chart."""
    with warehouse.connect() as con:
        _, cutoff = event_day_range(con)
        run_sql(con, "analytics/replace_segment_summary", cutoff=cutoff)
        summary = query_frame(con, "SELECT * FROM analytics.segment_summary", {})
        meta = _meta(con, "analytics.segment_summary", summary)
    if summary.height:
        meta["chart"] = _segment_chart(summary)
    return dg.MaterializeResult(metadata=meta)


def _segment_chart(summary: pl.DataFrame) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = summary["segment"].to_list()
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.2))
    ax.barh(y - 0.2, summary["user_share"].to_list(), height=0.4, label="share of users")
    ax.barh(y + 0.2, summary["revenue_share"].fill_null(0).to_list(), height=0.4,
            label="share of revenue")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    ax.set_title("RFM segments")
    fig.tight_layout()
    value = png_markdown(fig, "segments")
    plt.close(fig)
    return value


@dg.asset(key=PROPENSITY, deps=[CLEAN, SUSPICIOUS], kinds={"scikit-learn", "duckdb"}, **_COMMON)
def purchase_propensity(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Probability that each active user purchases in the next 7 days. A gradient boosting
    classifier (scikit-learn) is trained on user features at up to 22 weekly cutoffs and tested
    on the two latest cutoffs whose 7-day label window is complete (temporal split, no overlap);
    metadata compares its ROC AUC and top-decile precision with a recency-only baseline
    measured the same way. Then it is refitted on every labelled cutoff and scores all users
    active in the year before the current cutoff."""
    with warehouse.connect(read_only=True) as con:
        first_day, last_day = event_day_range(con)
        cache: dict = {}

        def features_at(c):
            if c not in cache:
                cache[c] = _features(con, c)
            return cache[c]

        def buyers_in(c):
            return set(sql_frame(con, "analytics/select_purchase_labels", cutoff=c,
                                 horizon_days=7)["user_id"].to_list())

        trains, tests = propensity_cutoffs(first_day, last_day)
        frames = {c: (features_at(c), buyers_in(c)) for c in [*trains, *tests]}
        current = features_at(last_day)
    # Connection closed: training holds no lock on the warehouse.
    result = train_propensity(lambda c: current if c == last_day else frames[c][0],
                              lambda c: frames[c][1], first_day, last_day)
    scored = result.scores.sort("score", descending=True).with_columns(
        pl.lit(last_day).alias("cutoff_date"),
        pl.int_range(1, pl.len() + 1).alias("rank"),
        pl.lit(result.model).alias("model"),
    ).with_columns((((pl.col("rank") - 1) * 10) // pl.len() + 1).cast(pl.Int32).alias("decile"))
    with warehouse.connect() as con:
        replace_table(con, "analytics/replace_purchase_propensity", scored)
        meta = _meta(con, "analytics.purchase_propensity", scored)
    m = result.metrics
    context.log.info(f"propensity {result.model}: {m}")
    numbers = {k: v for k, v in m.items() if isinstance(v, (int, float))}
    return dg.MaterializeResult(metadata=meta | numbers | {
        "model": result.model,
        "evaluation": dg.MetadataValue.json(m),
    })


@dg.asset(
    key=AUDIENCES,
    deps=[SEGMENTS, PROPENSITY, SUSPICIOUS, FEATURES, dg.AssetKey(["analytics", "sessions"]),
          dg.AssetKey(["analytics", "customer_value"])],
    kinds={"duckdb"},
    **_COMMON,
)
def campaign_audiences(warehouse: Warehouse) -> dg.MaterializeResult:
    """Target lists with the reason and expected value (propensity x value at stake):
    abandoned carts in the last CONV_AUDIENCE_DAYS days (default 7) with no purchase since,
    ranked by propensity; high-value customers (top 20% by revenue) at risk of churn (no order
    for more than max(60, twice their usual gap) days); new customers due for a second order
    (one order, 14-60 days ago). Each row carries the user's segment; flagged users are left out."""
    days = int(os.environ.get("CONV_AUDIENCE_DAYS", "7"))
    with warehouse.connect() as con:
        _, cutoff = event_day_range(con)
        run_sql(con, "analytics/replace_campaign_audiences", cutoff=cutoff, days=days)
        out = query_frame(con, "SELECT * FROM analytics.campaign_audiences", {})
        meta = _meta(con, "analytics.campaign_audiences", out)
    sizes = out.group_by("audience").len().sort("audience")
    return dg.MaterializeResult(metadata=meta | {
        "audience_sizes": dg.MetadataValue.md(markdown_table(sizes)),
        "lookback_days": days,
    })


ASSETS = [suspicious_activity, user_features, user_segments, segment_summary,
          purchase_propensity, campaign_audiences]
