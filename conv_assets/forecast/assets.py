"""analytics.daily_sales, and ml.sales_forecasts with ml.forecast_backtest."""

import os
from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import numpy as np
import polars as pl
from joblib import Parallel, cpu_count, delayed

from conv_assets.forecast.calendar import load_calendar
from conv_assets.forecast.models import SeriesResult, choose_and_forecast
from conv_assets.metadata import (
    markdown_table,
    png_markdown,
    table_metadata,
    window_count,
    window_preview,
)
from conv_assets.partitions import DAILY_FRESHNESS, daily_partitions, window
from conv_assets.resources import (
    WRITE_POOL,
    Warehouse,
    replace_table,
    run_sql,
    sql_frame,
    transaction,
)
from conv_assets.settings import load_settings

INTERVAL_COLUMNS = ("coverage_80", "coverage_95", "interval_score", "coverage_80_calibrated",
                    "coverage_95_calibrated", "interval_score_calibrated", "interval_scale_80",
                    "interval_scale_95")
DAILY_SALES = dg.AssetKey(["analytics", "daily_sales"])
FORECASTS = dg.AssetKey(["ml", "sales_forecasts"])
BACKTEST = dg.AssetKey(["ml", "forecast_backtest"])


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dg.asset(
    key=DAILY_SALES,
    deps=[dg.AssetKey(["clean", "events"])],
    group_name="forecast",
    kinds={"duckdb"},
    owners=["team:analytics"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    freshness_policy=DAILY_FRESHNESS,
    pool=WRITE_POOL,
)
def daily_sales(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per day: orders, units, revenue and buyers for the total and for the top categories by
    revenue (CONV_FORECAST_TOP_CATEGORIES, default 8; the long tail as 'other'; sources without
    categories get the total only). A day without sales is an explicit row of zeros with
    `no_sales` (and `shop_closed` when the whole shop sold nothing), never a missing day."""
    start, end = window(context)
    top = _int_env("CONV_FORECAST_TOP_CATEGORIES", 8)
    with warehouse.connect() as con:
        with transaction(con, "analytics.daily_sales"):
            run_sql(con, "analytics/delete_daily_sales", start=start, end=end)
            run_sql(con, "analytics/insert_daily_sales", start=start, end=end, top_categories=top)
        rows = window_count(con, "analytics.daily_sales", start, end)
        closed = run_sql(con, "analytics/count_closed_days", start=start, end=end).fetchall()[0][0]
        meta = table_metadata(con, "analytics.daily_sales", rows,
                              window_preview(con, "analytics.daily_sales", start, end))
    return dg.MaterializeResult(metadata=meta | {"closed_days": closed})


def _fit_one(args: tuple) -> tuple[str, str, SeriesResult]:
    series, measure, y, first_day, h, windows, cal = args
    return series, measure, choose_and_forecast(y, first_day, h=h, windows=windows, cal=cal)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            FORECASTS, deps=[DAILY_SALES], group_name="forecast", kinds={"statsmodels", "duckdb"},
            owners=["team:analytics"],
            description=(
                "The next CONV_FORECAST_HORIZON days (default 14) of revenue and units per "
                "series with 80% and 95% prediction intervals, never negative. The model per "
                "series is chosen by rolling-origin backtest among ETS (additive trend, and "
                "damped), SARIMAX with weekly seasonality and seasonal naive; short, constant "
                "or all-zero series fall back to a simple model. Closed weekdays forecast 0."
            ),
        ),
        dg.AssetSpec(
            BACKTEST, deps=[DAILY_SALES], group_name="forecast", kinds={"statsmodels", "duckdb"},
            owners=["team:analytics"],
            description=(
                "Rolling-origin backtest (CONV_FORECAST_WINDOWS windows, default 4, of the "
                "horizon each) per series, measure and candidate model: MAE, RMSE, sMAPE, MASE "
                "and which model was chosen."
            ),
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec("forecasts_non_negative", asset=FORECASTS, blocking=True,
                          description="No forecast or bound is negative, missing or infinite, and "
                          "lower_95 <= lower_80 <= forecast <= upper_80 <= upper_95."),
        dg.AssetCheckSpec("chosen_not_worse_than_seasonal_naive", asset=BACKTEST,
                          description="Warns when a series' chosen model has a higher MAE than "
                          "seasonal naive on the held-out latest window (not used to choose)."),
    ],
    pool=WRITE_POOL,
    can_subset=False,
)
def sales_forecasts(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Fit, backtest and forecast every daily sales series, in parallel across the cores."""
    h = _int_env("CONV_FORECAST_HORIZON", 14)
    windows = _int_env("CONV_FORECAST_WINDOWS", 4)
    with warehouse.connect(read_only=True) as con:
        history = sql_frame(con, "analytics/select_sales_history")
        calendar = load_calendar(con, load_settings().landing_dir, history["event_date"].min(),
                                 history["event_date"].max())
    tasks = []
    top = set(history["series"].unique().to_list()) if history.height else set()
    for (series,), part in history.partition_by("series", as_dict=True, maintain_order=True).items():
        first_day = part["event_date"][0]
        cal = calendar.flags(series, first_day, part.height + h, top) if calendar else None
        for measure in ("revenue", "units"):
            y = part[measure].fill_null(0).to_numpy().astype(float)
            if part[measure].null_count() == part.height:
                continue  # no prices: no revenue series
            tasks.append((series, measure, y, first_day, h, windows, cal))
    if calendar.files or calendar.country:
        context.log.info(f"calendar: {calendar.files} files ({calendar.rejected} rows rejected), "
                         f"public holidays of {calendar.country or 'no country'}")
    history_end = history["event_date"].max() if history.height else None
    if not tasks:
        context.log.warning("no complete day of sales history yet (the latest day is still "
                            "filling up): nothing to forecast")
    workers = min(len(tasks), _int_env("CONV_FORECAST_WORKERS", cpu_count())) or 1
    context.log.info(f"forecasting {len(tasks)} series x measure with {workers} processes")
    results: list[tuple[str, str, SeriesResult]] = []
    # joblib's loky workers start cleanly from any caller (no __main__ re-import, unlike spawn).
    parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator")
    for i, res in enumerate(parallel(delayed(_fit_one)(t) for t in tasks), 1):
        results.append(res)
        if i % 10 == 0 or i == len(tasks):
            context.log.info(f"fitted {i}/{len(tasks)}")
    results, reconciled, measures = reconcile(results)
    forecasts, backtests = _frames(results, history_end, h, reconciled, measures)
    with warehouse.connect() as con:
        with transaction(con, "ml.sales_forecasts", "ml.forecast_backtest"):
            replace_table(con, "ml/replace_sales_forecasts", forecasts, atomic=False)
            replace_table(con, "ml/replace_forecast_backtest", backtests, atomic=False)
        f_meta = table_metadata(con, "ml.sales_forecasts", forecasts.height, forecasts.head(10))
        b_meta = table_metadata(con, "ml.forecast_backtest", backtests.height, backtests.head(10))
        negative = sql_frame(con, "ml/check_forecasts_non_negative")
    chosen = backtests.filter(pl.col("chosen"))
    # Judged on the held-out latest window, which played no part in the choice.
    worse = chosen.filter(pl.col("holdout_mae_vs_seasonal_naive") > 1.0)
    judged = chosen.filter(pl.col("holdout_mae_vs_seasonal_naive").is_not_null()).height
    total = chosen.filter((pl.col("series") == "total") & (pl.col("measure") == "revenue"))
    summary = {}
    if total.height:
        summary = {"total_revenue_model": total["model"][0],
                   "total_revenue_mae_vs_seasonal_naive": float(total["mae_vs_seasonal_naive"][0])}
    plot = _forecast_plot(history, forecasts) if forecasts.height else None
    note = {} if tasks else {"note": "no complete day of history yet: nothing to forecast"}
    note |= {"calendar_files": calendar.files, "calendar_rows_rejected": calendar.rejected,
             "holidays_country": calendar.country or "none"}
    yield dg.MaterializeResult(
        asset_key=FORECASTS,
        metadata=f_meta | summary | note | ({"forecast_plot": plot} if plot else {})
        | {"models_chosen": dg.MetadataValue.json(
            dict(forecasts.group_by("model").agg(pl.col("series").n_unique()).iter_rows()))},
    )
    yield dg.MaterializeResult(
        asset_key=BACKTEST,
        metadata=b_meta | summary | {"chosen": dg.MetadataValue.md(markdown_table(
            chosen.select("series", "measure", "model", "mae", "mase", "mae_vs_seasonal_naive",
                          "coverage_80", "coverage_80_calibrated"), max_rows=30)),
            "why_chosen": dg.MetadataValue.md(markdown_table(pl.DataFrame(
                [{"series": s, "measure": m, "model": r.model, "reason": r.reason}
                 for s, m, r in results], schema={"series": pl.String, "measure": pl.String,
                                                  "model": pl.String, "reason": pl.String}),
                max_rows=30)),
            "intermittent_series": sum(r.model in ("croston", "tsb") for _, _, r in results)},
    )
    yield dg.AssetCheckResult(check_name="forecasts_non_negative", asset_key=FORECASTS,
                              passed=negative.is_empty(), metadata={"negative_rows": negative.height})
    yield dg.AssetCheckResult(
        check_name="chosen_not_worse_than_seasonal_naive", asset_key=BACKTEST,
        passed=worse.is_empty(), severity=dg.AssetCheckSeverity.WARN,
        metadata={"series_judged": judged, "series_worse": dg.MetadataValue.md(markdown_table(
            worse.select("series", "measure", "model", "holdout_mae_vs_seasonal_naive")))},
    )


def reconcile(results: list) -> tuple[list, list[dict], set[str]]:
    """Categories (every series but the total: the top categories and 'other', which add up
    to it) scaled per day to sum to the total's forecast, their intervals with them (top-down
    by forecast proportions; equal shares on a day where every category forecasts 0). Returns
    the results, per category series and measure whose backtest windows match the total's the
    chosen model's backtest MAE before and after the same scaling, and the measures
    reconciled."""
    from dataclasses import replace

    from conv_assets.forecast.models import Forecast

    out, report, done = list(results), [], set()
    for measure in ("revenue", "units"):
        idx = {s: i for i, (s, m, _) in enumerate(out) if m == measure}
        if "total" not in idx or len(idx) < 2:
            continue
        total = out[idx["total"]][2]
        cats = [s for s in idx if s != "total"]
        share = _shares(np.stack([out[idx[s]][2].forecast.mean for s in cats]))
        for j, s in enumerate(cats):
            res = out[idx[s]][2]
            f = res.forecast
            new_mean = share[j] * total.forecast.mean
            ratio = new_mean / np.where(f.mean > 0, f.mean, 1)
            bands = [np.where(f.mean > 0, b * ratio, new_mean) for b in (f.lo80, f.hi80, f.lo95, f.hi95)]
            out[idx[s]] = (s, measure, replace(res, forecast=Forecast(new_mean, *bands)))
        done.add(measure)
        # Backtest: the same proportional scaling of the chosen models' backtest forecasts.
        preds = [out[idx[s]][2].backtest_pred for s in cats]
        tp = total.backtest_pred
        if tp is None or any(p is None or len(p) != len(tp) for p in preds):
            continue
        for s, p, w in zip(cats, preds, _shares(np.stack(preds)), strict=True):
            actual = out[idx[s]][2].backtest_actual
            report.append({"series": s, "measure": measure,
                           "mae": float(np.mean(np.abs(actual - p))),
                           "mae_reconciled": float(np.mean(np.abs(actual - w * tp)))})
    return out, report, done


def _shares(parts: np.ndarray) -> np.ndarray:
    """Each row's share of the column sums (equal shares in a column that sums to 0)."""
    sums = parts.sum(axis=0)
    return np.where(sums > 0, parts / np.where(sums > 0, sums, 1), 1 / len(parts))


def _frames(results, history_end: date | None, h: int, reconciled: list[dict],
            measures: set[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    f_rows, b_rows = [], []
    after = {(r["series"], r["measure"]): r["mae_reconciled"] for r in reconciled}
    for series, measure, res in results:
        fc = res.forecast
        calibrated = any(r.get("intervals") == "calibrated" for r in res.backtest)
        for i in range(h):
            f_rows.append({
                "series": series, "measure": measure,
                "forecast_date": history_end + timedelta(days=i + 1), "horizon": i + 1,
                "model": res.model, "forecast": float(fc.mean[i]),
                "lower_80": float(fc.lo80[i]), "upper_80": float(fc.hi80[i]),
                "lower_95": float(fc.lo95[i]), "upper_95": float(fc.hi95[i]),
                "history_end": history_end,
                "intervals": "calibrated" if calibrated else "model",
                "reconciled": series != "total" and measure in measures,
            })
        naive = next((r for r in res.backtest if r["model"] == "seasonal_naive" and "mae" in r), None)
        for r in res.backtest:
            first_origin = (history_end - timedelta(days=h * r["windows"] - 1)
                            if history_end else None)
            b_rows.append({
                "series": series, "measure": measure, "model": r["model"],
                "windows": r["windows"], "horizon_days": h, "first_origin": first_origin,
                "history_end": history_end, "mae": r.get("mae"), "rmse": r.get("rmse"),
                "smape": r.get("smape"), "mase": r.get("mase"),
                "mae_vs_seasonal_naive": (r["mae"] / naive["mae"]
                                          if naive and "mae" in r and naive["mae"] else None),
                "holdout_mae": r.get("holdout_mae"),
                "holdout_mae_vs_seasonal_naive": (
                    r["holdout_mae"] / naive["holdout_mae"]
                    if naive and r.get("holdout_mae") is not None and naive.get("holdout_mae")
                    else None),
                "chosen": r["model"] == res.model, "error": r.get("error"),
                **{c: r.get(c) for c in INTERVAL_COLUMNS},
                "choice_metric": r.get("choice_metric"), "gain_low": r.get("gain_low"),
                "gain_high": r.get("gain_high"), "promotion_mae": r.get("promotion_mae"),
                "mae_reconciled": after.get((series, measure)) if r["model"] == res.model else None,
            })
    f_schema = {"series": pl.String, "measure": pl.String, "forecast_date": pl.Date,
                "horizon": pl.Int32, "model": pl.String, "forecast": pl.Float64,
                "lower_80": pl.Float64, "upper_80": pl.Float64, "lower_95": pl.Float64,
                "upper_95": pl.Float64, "history_end": pl.Date, "intervals": pl.String,
                "reconciled": pl.Boolean}
    b_schema = {"series": pl.String, "measure": pl.String, "model": pl.String,
                "windows": pl.Int32, "horizon_days": pl.Int32, "first_origin": pl.Date,
                "history_end": pl.Date, "mae": pl.Float64, "rmse": pl.Float64,
                "smape": pl.Float64, "mase": pl.Float64, "mae_vs_seasonal_naive": pl.Float64,
                "holdout_mae": pl.Float64, "holdout_mae_vs_seasonal_naive": pl.Float64,
                "chosen": pl.Boolean, "error": pl.String,
                **{c: pl.Float64 for c in INTERVAL_COLUMNS}, "choice_metric": pl.String,
                "gain_low": pl.Float64, "gain_high": pl.Float64, "mae_reconciled": pl.Float64,
                "promotion_mae": pl.Float64}
    return pl.DataFrame(f_rows, schema=f_schema), pl.DataFrame(b_rows, schema=b_schema)


def _forecast_plot(history: pl.DataFrame, forecasts: pl.DataFrame) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measure = "revenue" if forecasts.filter(pl.col("measure") == "revenue").height else "units"
    fc = forecasts.filter(pl.col("measure") == measure)
    totals = history.group_by("series").agg(pl.col(measure).sum()).sort(measure, descending=True)
    names = ["total"] + [s for s in totals["series"] if s not in ("total", "other")][:3]
    names = [n for n in names if fc.filter(pl.col("series") == n).height]
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.4 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        hist = history.filter(pl.col("series") == name).tail(90)
        f = fc.filter(pl.col("series") == name)
        ax.plot(hist["event_date"].to_list(), hist[measure].to_list(), color="#444", lw=1,
                label="history")
        x = f["forecast_date"].to_list()
        ax.fill_between(x, f["lower_95"].to_list(), f["upper_95"].to_list(), color="#4c72b0",
                        alpha=0.15, label="95%")
        ax.fill_between(x, f["lower_80"].to_list(), f["upper_80"].to_list(), color="#4c72b0",
                        alpha=0.3, label="80%")
        ax.plot(x, f["forecast"].to_list(), color="#4c72b0", lw=1.5,
                label=f"forecast ({f['model'][0]})")
        ax.set_title(f"{name}: daily {measure}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    value = png_markdown(fig, "forecast")
    plt.close(fig)
    return value


ASSETS = [daily_sales, sales_forecasts]
