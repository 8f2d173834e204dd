"""Conversion analytics: sessions, the daily funnel, product conversion, customers, cohorts,
the users' weekly lifecycle and channel attribution."""

import dagster as dg
import polars as pl

from conv_assets.anomaly import Band, check_result, judge
from conv_assets.funnels import load_funnels, max_window_days, steps_frame
from conv_assets.metadata import (
    markdown_table,
    png_markdown,
    table_metadata,
    window_count,
    window_preview,
)
from conv_assets.partitions import DAILY_FRESHNESS, daily_partitions, day_batches, window
from conv_assets.resources import (
    WRITE_POOL,
    Warehouse,
    query_frame,
    run_sql,
    sql_frame,
    transaction,
)
from conv_assets.settings import load_settings

CLEAN_EVENTS = dg.AssetKey(["clean", "events"])
SESSIONS = dg.AssetKey(["analytics", "sessions"])
# A day's sessions and funnel read the day before (sessions that started then) and the day after
# (sessions running over midnight).
AROUND_THE_DAY = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=1)
_COMMON = {"group_name": "analytics", "owners": ["team:analytics"], "pool": WRITE_POOL}
_DAILY = {
    **_COMMON,
    "partitions_def": daily_partitions,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "freshness_policy": DAILY_FRESHNESS,
}
# Whole-history tables are recomputed by models_schedule.
_GLOBAL = _COMMON


def _batches(con, start, end) -> list:
    """The window in batches of whole days of at most CONV_BATCH_ROWS clean events: each day's
    rows depend only on that day and its neighbours, so batches bound memory and change nothing."""
    return day_batches(start, end, run_sql(con, "analytics/select_day_rows", start=start,
                                           end=end).fetchall(), load_settings().batch_rows)


def _event_types_present(con) -> dict[str, bool]:
    row = sql_frame(con, "analytics/select_event_types_present").row(0, named=True)
    return {k: bool(v) for k, v in row.items()}


def _unsupported(present: dict[str, bool]) -> str:
    reasons = []
    if not present["has_views"]:
        reasons.append(
            "The source has no view events: sessions_with_view, view_to_cart_rate, "
            "session_conversion_rate, user_conversion_rate and time to purchase are NULL."
        )
    if not present["has_carts"]:
        reasons.append(
            "The source has no cart events: sessions_with_cart, cart rates, cart abandonment "
            "and abandoned cart value are NULL."
        )
    if not present["has_prices"]:
        reasons.append("The source has no prices: revenue and value columns are NULL.")
    return " ".join(reasons) or "All funnel columns are supported by this source."


@dg.asset(
    key=SESSIONS,
    deps=[dg.AssetDep(CLEAN_EVENTS, partition_mapping=AROUND_THE_DAY)],
    kinds={"duckdb"},
    **_DAILY,
)
def sessions(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """One row per session on the UTC day it started: duration, events, products viewed, carted
    and purchased, the funnel steps it reached, orders, revenue and whether the cart was
    abandoned (a cart add and no purchase in the session)."""
    start, end = window(context)
    with warehouse.connect() as con:
        for lo, hi in _batches(con, start, end):
            with transaction(con, "analytics.sessions"):
                run_sql(con, "analytics/delete_sessions", start=lo, end=hi)
                run_sql(con, "analytics/insert_sessions", start=lo, end=hi)
        rows = window_count(con, "analytics.sessions", start, end, "session_date")
        preview = window_preview(con, "analytics.sessions", start, end, "session_date")
        meta = table_metadata(con, "analytics.sessions", rows, preview)
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    key=["analytics", "daily_funnel"],
    # The flagged users it leaves out with CONV_EXCLUDE_SUSPICIOUS: as last computed (the models
    # job), and in a full run computed first.
    deps=[SESSIONS, dg.AssetDep(CLEAN_EVENTS, partition_mapping=AROUND_THE_DAY),
          dg.AssetKey(["analytics", "suspicious_activity"])],
    kinds={"duckdb", "matplotlib"},
    check_specs=[
        dg.AssetCheckSpec(
            "rates_within_0_1", asset=["analytics", "daily_funnel"], blocking=True,
            description="Every rate column is NULL or within [0, 1].",
        ),
        dg.AssetCheckSpec(
            "daily_kpis_normal", asset=["analytics", "daily_funnel"],
            partitions_def=daily_partitions,
            description=(
                "Warns when a day's sessions, revenue or session conversion (category '(all)') "
                "are outside 0.5x..2x the median of the same weekday over the 8 weeks before "
                "(CONV_ANOMALY_LOW/HIGH/WEEKS). Closed days (no sessions) and the latest day "
                "(still filling up) are not judged. See conv_assets/anomaly.py."
            ),
        ),
    ],
    **_DAILY,
)
def daily_funnel(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Per day, overall (category '(all)') and per category: sessions reaching view, cart and
    purchase, step rates, conversion, active users and purchasers, orders, units, revenue, AOV,
    cart abandonment, value left in abandoned carts and time from first view to purchase.
    Rates are NULL without a denominator; columns the source cannot support are NULL."""
    start, end = window(context)
    with warehouse.connect() as con:
        present = _event_types_present(con)
        for lo, hi in _batches(con, start, end):
            with transaction(con, "analytics.daily_funnel"):
                run_sql(con, "analytics/delete_daily_funnel", start=lo, end=hi)
                run_sql(con, "analytics/insert_daily_funnel", start=lo, end=hi, **present,
                        exclude_suspicious=load_settings().exclude_suspicious)
        rows = window_count(con, "analytics.daily_funnel", start, end)
        bad_rates = sql_frame(con, "analytics/check_funnel_rates", start=start, end=end)
        latest = sql_frame(con, "analytics/select_latest_funnel_day", start=start, end=end)
        band = Band.from_env()
        kpis = judge(sql_frame(con, "analytics/check_daily_kpis", start=start, end=end,
                               weeks=band.weeks), "sessions", KPI_MEASURES, band)
        meta = table_metadata(
            con, "analytics.daily_funnel", rows,
            window_preview(con, "analytics.daily_funnel", start, end),
        )
    meta["unsupported_columns"] = dg.MetadataValue.text(_unsupported(present))
    if not latest.is_empty():
        meta["funnel_chart"] = _funnel_chart(latest.row(0, named=True))
    kpi_check, kpi_numbers = check_result("daily_kpis_normal", kpis, KPI_MEASURES, band,
                                          dg.AssetKey(["analytics", "daily_funnel"]))
    yield dg.MaterializeResult(metadata=meta | kpi_numbers)
    yield kpi_check
    yield dg.AssetCheckResult(
        check_name="rates_within_0_1", passed=bad_rates.is_empty(),
        metadata={"rows_out_of_range": bad_rates.height},
    )


KPI_MEASURES = ["sessions", "revenue", "session_conversion_rate"]


def _funnel_chart(day: dict) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [("sessions", day["sessions"]), ("viewed", day["sessions_with_view"]),
             ("added to cart", day["sessions_with_cart"]),
             ("purchased", day["sessions_with_purchase"])]
    steps = [(name, n) for name, n in steps if n is not None]
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.barh([s[0] for s in steps][::-1], [s[1] for s in steps][::-1], color="#4c72b0")
    top = max(s[1] for s in steps) or 1
    for i, (_, n) in enumerate(steps[::-1]):
        ax.text(n, i, f" {n:,} ({n / top:.1%})", va="center")
    ax.set_title(f"Session funnel, {day['event_date']}")
    ax.set_xlim(0, top * 1.35)
    fig.tight_layout()
    value = png_markdown(fig, "funnel")
    plt.close(fig)
    return value


def _replace_global(
    warehouse: Warehouse, table: str, sql_name: str, **params: object
) -> dict:
    with warehouse.connect() as con:
        present = _event_types_present(con)
        with transaction(con, table):
            run_sql(con, sql_name, **params, **present)
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        preview = query_frame(con, f"SELECT * FROM {table} LIMIT 10", {})
        meta = table_metadata(con, table, rows, preview)
    meta["unsupported_columns"] = dg.MetadataValue.text(_unsupported(present))
    return meta


@dg.asset(key=["analytics", "product_conversion"], deps=[CLEAN_EVENTS], kinds={"duckdb"}, **_GLOBAL)
def product_conversion(warehouse: Warehouse) -> dg.MaterializeResult:
    """Per product and per category over the trailing window (CONV_PRODUCT_WINDOW_DAYS, default
    28 days ending on the latest day with events): views, cart adds, purchases, units, the share
    of sessions that viewed it and bought it, and revenue."""
    days = load_settings().product_window_days
    meta = _replace_global(
        warehouse, "analytics.product_conversion", "analytics/replace_product_conversion",
        window_days=days,
    )
    return dg.MaterializeResult(metadata=meta | {"window_days": days})


@dg.asset(key=["analytics", "customer_value"], deps=[CLEAN_EVENTS], kinds={"duckdb"}, **_GLOBAL)
def customer_value(warehouse: Warehouse) -> dg.MaterializeResult:
    """Per customer: first and last purchase, orders, units, revenue, average order value,
    average days between orders, returned value and historic value (revenue - returns)."""
    meta = _replace_global(warehouse, "analytics.customer_value", "analytics/replace_customer_value")
    return dg.MaterializeResult(metadata=meta)


@dg.asset(key=["analytics", "cohort_retention"], deps=[CLEAN_EVENTS], kinds={"duckdb"}, **_GLOBAL)
def cohort_retention(warehouse: Warehouse) -> dg.MaterializeResult:
    """Monthly and weekly cohorts by first purchase: customers, the share who purchased again in
    each later period, revenue per period, the cohort's repeat purchase rate and historic revenue
    per customer. The wide monthly matrix is the view analytics.cohort_matrix_monthly."""
    meta = _replace_global(
        warehouse, "analytics.cohort_retention", "analytics/replace_cohort_retention"
    )
    return dg.MaterializeResult(metadata=meta)


@dg.asset(key=["analytics", "user_lifecycle"], deps=[CLEAN_EVENTS], kinds={"duckdb", "matplotlib"},
          **_GLOBAL)
def user_lifecycle(warehouse: Warehouse) -> dg.MaterializeResult:
    """Per week (Monday to Sunday) and activity (any event; purchase): new, returning,
    resurrecting and dormant users, and the quick ratio (new + resurrecting) / dormant."""
    meta = _replace_global(warehouse, "analytics.user_lifecycle", "analytics/replace_user_lifecycle")
    with warehouse.connect() as con:
        weeks = query_frame(con, "SELECT * FROM analytics.user_lifecycle ORDER BY activity, week", {})
    if not weeks.is_empty():
        meta["lifecycle_chart"] = _lifecycle_chart(weeks)
    return dg.MaterializeResult(metadata=meta)


def _lifecycle_chart(weeks) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = weeks.filter(weeks["activity"] == "any").tail(26)
    fig, ax = plt.subplots(figsize=(7, 2.8))
    x = list(range(w.height))
    bottom = [0] * w.height
    for col, color in (("new_users", "#55a868"), ("returning_users", "#4c72b0"),
                       ("resurrecting_users", "#8172b2")):
        vals = w[col].to_list()
        ax.bar(x, vals, bottom=bottom, color=color, label=col.removesuffix("_users"))
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.bar(x, [-v for v in w["dormant_users"].to_list()], color="#c44e52", label="dormant")
    ax.set_xticks(x[::4], [str(d) for d in w["week"].to_list()][::4], fontsize=7)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_title("Users per week by lifecycle status (last 26 weeks)")
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    value = png_markdown(fig, "lifecycle")
    plt.close(fig)
    return value


ATTRIBUTION_MODELS = ["first_touch", "last_touch", "linear", "position_based"]


@dg.asset(
    key=["analytics", "channel_attribution"], deps=[CLEAN_EVENTS], kinds={"duckdb", "matplotlib"},
    check_specs=[dg.AssetCheckSpec(
        "credits_add_up", asset=["analytics", "channel_attribution"],
        description="For every model, the credited orders and revenue equal the orders and "
                    "revenue in clean events (each order's credits add up to 1).",
    )],
    **_GLOBAL,
)
def channel_attribution(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Each order's revenue credited to the channels of the user's sessions in the lookback
    window before it (CONV_ATTRIBUTION_LOOKBACK_DAYS, 30) and its own session, by first touch,
    last touch, linear and position-based (40/20/40) models, per order day and channel; with
    spend, cost per order and ROAS from landed marketing_spend*.csv files (date, channel, spend)."""
    from conv_assets.sources import list_spend_files

    settings = load_settings()
    spend_files = list_spend_files(settings.landing_dir)
    with warehouse.connect() as con:
        if spend_files:
            run_sql(con, "analytics/stage_marketing_spend", paths=[str(p) for p in spend_files])
        else:
            run_sql(con, "analytics/stage_no_marketing_spend")
        rejected = query_frame(con, "SELECT * FROM marketing_spend_rejected", {})
        with transaction(con, "analytics.channel_attribution"):
            run_sql(con, "analytics/replace_channel_attribution",
                    lookback_days=settings.attribution_lookback_days)
        table = "analytics.channel_attribution"
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        by_model = query_frame(con, (
            "SELECT model, channel, sum(attributed_orders) AS orders, "
            "sum(attributed_revenue) AS revenue, sum(spend) AS spend FROM analytics.channel_attribution "
            "GROUP BY ALL ORDER BY model, revenue DESC NULLS LAST, orders DESC"), {})
        totals = sql_frame(con, "analytics/check_channel_attribution")
        meta = table_metadata(con, table, rows, query_frame(con, f"SELECT * FROM {table} LIMIT 10", {}))
    if rejected.height:
        context.log.warning(f"{rejected.height} marketing_spend rows rejected (unparseable date or "
                            "spend, negative spend or no channel); see the asset's metadata")
    meta |= {
        "lookback_days": settings.attribution_lookback_days,
        "spend_files": dg.MetadataValue.json([str(p) for p in spend_files]),
        "spend_rows_rejected": dg.MetadataValue.md(markdown_table(rejected.head(20))),
        "by_model_and_channel": dg.MetadataValue.md(markdown_table(by_model)),
    }
    if not by_model.is_empty():
        meta["attribution_chart"] = _attribution_chart(by_model)
    yield dg.MaterializeResult(metadata=meta)
    bad = totals.filter(
        ((totals["orders"] - totals["credited_orders"]).abs() > 1e-6)
        | ((totals["revenue"].cast(float) - totals["credited_revenue"].cast(float)).abs() > 1e-2)
    )
    yield dg.AssetCheckResult(
        check_name="credits_add_up", passed=bad.is_empty(),
        metadata={"per_model": dg.MetadataValue.md(markdown_table(totals))},
    )


def _attribution_chart(by_model) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measure = "revenue" if by_model["revenue"].null_count() < by_model.height else "orders"
    top = by_model.group_by("channel").agg(total=pl.col(measure).sum())
    channels = top.sort("total", descending=True)["channel"].head(8).to_list()
    fig, ax = plt.subplots(figsize=(7, 3))
    width = 0.2
    for i, model in enumerate(ATTRIBUTION_MODELS):
        m = {r["channel"]: r[measure] for r in by_model.filter(by_model["model"] == model).iter_rows(named=True)}
        ax.bar([j + i * width for j in range(len(channels))],
               [float(m.get(c) or 0) for c in channels], width, label=model)
    ax.set_xticks([j + 1.5 * width for j in range(len(channels))], channels, fontsize=7, rotation=20)
    ax.set_title(f"Attributed {measure} by channel and model")
    ax.legend(fontsize=7)
    fig.tight_layout()
    value = png_markdown(fig, "attribution")
    plt.close(fig)
    return value


USER_FUNNEL = dg.AssetKey(["analytics", "user_funnel"])
TIME_TO_CONVERT = dg.AssetKey(["analytics", "funnel_time_to_convert"])
# An entry day's rows read the events of that day and of the funnels' windows after it.
FUNNEL_DAYS = dg.TimeWindowPartitionMapping(start_offset=0, end_offset=max_window_days())
_FUNNEL_SPEC = {"deps": [dg.AssetDep(CLEAN_EVENTS, partition_mapping=FUNNEL_DAYS)],
                "kinds": {"duckdb", "matplotlib"}, "group_name": "analytics",
                "owners": ["team:analytics"], "freshness_policy": DAILY_FRESHNESS}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(USER_FUNNEL, **_FUNNEL_SPEC, description=(
            "Per funnel (CONV_FUNNELS), entry day, breakdown (all, category, channel, device, "
            "country, user_type) and step: users who reached the step within the funnel's window "
            "across sessions, converted to the next, drop-off and hours to the next step (p50, "
            "p90). Rebuilt for the days whose window a changed day falls in.")),
        dg.AssetSpec(TIME_TO_CONVERT, **_FUNNEL_SPEC, description=(
            "Per funnel, entry day and pair of steps: users by time taken to convert, in buckets "
            "from under a minute to 7 days or more.")),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WRITE_POOL,
)
def user_funnel(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Both tables from one pass: see sql/analytics/stage_user_funnel.sql, insert_funnel_step.sql
    (once per step), insert_user_funnel.sql and insert_funnel_time_to_convert.sql."""
    funnels = load_funnels()
    steps = steps_frame(funnels)
    longest = max(f.window_days for f in funnels)
    start, end = window(context)
    with warehouse.connect() as con:
        con.register("funnel_steps_in", steps.to_arrow())
        run_sql(con, "analytics/stage_funnel_steps")
        for lo, hi in _batches(con, start, end):
            run_sql(con, "analytics/stage_user_funnel", start=lo, end=hi, max_window=longest)
            for k in range(2, int(steps["steps"].max()) + 1):
                run_sql(con, "analytics/insert_funnel_step", step=k)
            with transaction(con, "analytics.user_funnel"):
                run_sql(con, "analytics/delete_user_funnel", start=lo, end=hi)
                run_sql(con, "analytics/insert_user_funnel", start=lo, end=hi)
            with transaction(con, "analytics.funnel_time_to_convert"):
                run_sql(con, "analytics/delete_funnel_time_to_convert", start=lo, end=hi)
                run_sql(con, "analytics/insert_funnel_time_to_convert")
        metas = {}
        for key, table, col in ((USER_FUNNEL, "analytics.user_funnel", "entry_date"),
                                (TIME_TO_CONVERT, "analytics.funnel_time_to_convert", "entry_date")):
            rows = window_count(con, table, start, end, col)
            metas[key] = table_metadata(con, table, rows, window_preview(con, table, start, end, col))
        overall = query_frame(con, (
            "SELECT funnel, step, any_value(step_name) AS step_name, CAST(sum(entered) AS BIGINT) AS entered "
            "FROM analytics.user_funnel WHERE breakdown = 'all' AND entry_date >= $start "
            "AND entry_date < $end GROUP BY ALL ORDER BY funnel, step"), {"start": start, "end": end})
        buckets = query_frame(con, (
            "SELECT funnel, from_step, to_step, bucket_order, any_value(bucket) AS bucket, "
            "CAST(sum(users) AS BIGINT) AS users FROM analytics.funnel_time_to_convert WHERE entry_date >= $start "
            "AND entry_date < $end GROUP BY ALL ORDER BY ALL"), {"start": start, "end": end})
    metas[USER_FUNNEL] |= {
        "funnels": dg.MetadataValue.md(markdown_table(steps.select(
            "funnel", "step", "step_name", "strict", "window_days"), max_rows=50)),
        "window_totals": dg.MetadataValue.md(markdown_table(overall, max_rows=50)),
    }
    if not overall.is_empty():
        metas[USER_FUNNEL]["funnel_chart"] = _user_funnel_chart(overall)
    if not buckets.is_empty():
        metas[TIME_TO_CONVERT]["time_to_convert_chart"] = _time_to_convert_chart(buckets)
    for key, meta in metas.items():
        yield dg.MaterializeResult(asset_key=key, metadata=meta)


def _user_funnel_chart(overall) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = overall["funnel"].unique(maintain_order=True).to_list()
    fig, axes = plt.subplots(len(names), 1, figsize=(6, 1.4 + 0.5 * overall.height), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        f = overall.filter(overall["funnel"] == name)
        labels, n = f["step_name"].to_list()[::-1], f["entered"].to_list()[::-1]
        ax.barh(labels, n, color="#4c72b0")
        top = max(n) or 1
        for i, v in enumerate(n):
            ax.text(v, i, f" {v:,} ({v / top:.1%})", va="center", fontsize=8)
        ax.set_xlim(0, top * 1.4)
        ax.set_title(f"{name}: users per step (entry days of this run)", fontsize=9)
    fig.tight_layout()
    value = png_markdown(fig, "user funnel")
    plt.close(fig)
    return value


def _time_to_convert_chart(buckets) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = buckets.select("funnel", "from_step", "to_step").unique(maintain_order=True).rows()
    fig, ax = plt.subplots(figsize=(7, 3))
    labels = ["under 1 min", "1-10 min", "10-60 min", "1-6 h", "6-24 h", "1-3 d", "3-7 d", "7 d or more"]
    width = 0.8 / max(1, len(pairs))
    for i, (f, a, b) in enumerate(pairs):
        sub = buckets.filter((buckets["funnel"] == f) & (buckets["from_step"] == a) & (buckets["to_step"] == b))
        users = dict(zip(sub["bucket_order"].to_list(), sub["users"].to_list(), strict=True))
        total = sum(users.values()) or 1
        ax.bar([j + i * width for j in range(8)], [users.get(j + 1, 0) / total for j in range(8)],
               width, label=f"{f} {a}->{b}")
    ax.set_xticks([j + 0.4 for j in range(8)], labels, fontsize=7, rotation=20)
    ax.set_ylabel("share of users")
    ax.set_title("Time to convert")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    value = png_markdown(fig, "time to convert")
    plt.close(fig)
    return value


ASSETS = [sessions, daily_funnel, product_conversion, customer_value, cohort_retention,
          user_lifecycle, channel_attribution, user_funnel]
