"""Daily sales forecasting: candidate models, rolling-origin backtests, model choice per series.

Plain functions over numpy arrays of consecutive calendar days, so they are easy to test.

Closed days. Shops close on some weekdays (UCI Online Retail never trades on Saturdays) and on
holidays. A weekday with no sales on at least 80% of its recent occurrences is a *closed
weekday*: models are fitted on the open days only (seasonal period = number of open weekdays)
and forecast 0, with a zero interval, on closed weekdays. A zero day on an open weekday (a
holiday) is treated as missing: SARIMAX skips it, ETS sees the value one season earlier.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

MODELS = ("ets", "ets_damped", "sarimax", "seasonal_naive")
# Intermittent-demand models, candidates for series with at least INTERMITTENT_SHARE zero days.
INTERMITTENT = ("croston", "tsb")
INTERMITTENT_SHARE = 0.5
# The first is the baseline, chosen unless another model's gain over it is sure; the order
# breaks ties. On sparse series the baseline is Croston's flat rate: seasonal naive would
# repeat last week's random sales days.
# SARIMAX with the calendar's promotion and holiday flags as regressors (regression with ARIMA
# errors), a candidate where the series' history has a flagged day.
CALENDAR_MODEL = "sarimax_calendar"
SIMPLEST_FIRST = ("seasonal_naive", "croston", "tsb", "ets", "ets_damped", "sarimax", CALENDAR_MODEL)
SPARSE_SIMPLEST_FIRST = ("croston", "tsb", "seasonal_naive", "ets", "ets_damped", "sarimax",
                         CALENDAR_MODEL)
Z80, Z95 = 1.2815515655446004, 1.959963984540054
RESAMPLES, LEVEL = 2000, 0.90


@dataclass(frozen=True)
class Forecast:
    mean: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray

    def clipped(self) -> Forecast:
        """Sales are never negative: clip every band at 0."""
        return Forecast(*(np.maximum(a, 0.0) for a in (self.mean, self.lo80, self.hi80,
                                                         self.lo95, self.hi95)))


def closed_weekdays(y: np.ndarray, first_day: date, lookback_weeks: int = 12) -> set[int]:
    """Weekdays (Monday 0) with no sales on >= 80% of their last `lookback_weeks` occurrences."""
    n = len(y)
    start = max(0, n - 7 * lookback_weeks)
    closed = set()
    for wd in range(7):
        idx = [i for i in range(start, n) if (first_day + timedelta(days=i)).weekday() == wd]
        if len(idx) >= 2 and np.mean(y[idx] == 0) >= 0.8:
            closed.add(wd)
    if len(closed) == 7:  # all-zero series: nothing is "open"
        return set()
    return closed


def seasonal_naive(y: np.ndarray, h: int, period: int = 7) -> Forecast:
    """y[t] = y[t - period]; intervals from the spread of in-sample seasonal differences."""
    if len(y) < period:
        return mean_forecast(y, h)
    last = y[-period:]
    mean = np.array([last[i % period] for i in range(h)], dtype=float)
    diffs = y[period:] - y[:-period]
    sigma = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else 0.0
    k = np.sqrt(np.floor(np.arange(h) / period) + 1)
    return Forecast(mean, mean - Z80 * sigma * k, mean + Z80 * sigma * k,
                    mean - Z95 * sigma * k, mean + Z95 * sigma * k)


def mean_forecast(y: np.ndarray, h: int) -> Forecast:
    """The fallback for very short series: the mean of the last week, +- its spread."""
    tail = y[-7:] if len(y) else np.zeros(1)
    m = float(np.mean(tail))
    s = float(np.std(tail, ddof=1)) if len(tail) > 1 else 0.0
    mean = np.full(h, m)
    return Forecast(mean, mean - Z80 * s, mean + Z80 * s, mean - Z95 * s, mean + Z95 * s)


def _fill_holidays(z: np.ndarray, period: int) -> np.ndarray:
    """Zero days on open weekdays take the value one season earlier (or later at the start)."""
    out = z.astype(float).copy()
    for i in np.flatnonzero(out == 0):
        j = i - period if i >= period else i + period
        while 0 <= j < len(out) and out[j] == 0:
            j = j - period if i >= period else j + period
        if 0 <= j < len(out):
            out[i] = out[j]
    return out


def _fit_open_days(z: np.ndarray, model: str, h: int, period: int,
                   exog: np.ndarray | None = None, exog_future: np.ndarray | None = None) -> Forecast:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model in ("ets", "ets_damped"):
            series = pd.Series(_fill_holidays(z, period))
            fit = ETSModel(
                series, error="add", trend="add", damped_trend=model == "ets_damped",
                seasonal="add" if period > 1 else None,
                seasonal_periods=period if period > 1 else None,
            ).fit(disp=False, maxiter=200)
            n = len(series)
            f80 = fit.get_prediction(start=n, end=n + h - 1).summary_frame(alpha=0.2)
            f95 = fit.get_prediction(start=n, end=n + h - 1).summary_frame(alpha=0.05)
            return Forecast(f80["mean"].to_numpy(), f80["pi_lower"].to_numpy(),
                            f80["pi_upper"].to_numpy(), f95["pi_lower"].to_numpy(),
                            f95["pi_upper"].to_numpy())
        if model in ("sarimax", CALENDAR_MODEL):
            endog = np.where(z == 0, np.nan, z).astype(float)
            seasonal = (0, 1, 1, period) if period > 1 else (0, 0, 0, 0)
            keep = []
            if model == CALENDAR_MODEL and exog is not None:
                seen = exog[~np.isnan(endog)]
                # A flag that never varies on the days with sales says nothing: left out.
                keep = [j for j in range(exog.shape[1]) if len(seen) and seen[:, j].min() != seen[:, j].max()]
            x = exog[:, keep] if keep else None
            fit = SARIMAX(endog, exog=x, order=(1, 0, 0), seasonal_order=seasonal).fit(disp=False)
            fc = fit.get_forecast(h, exog=exog_future[:, keep] if keep else None)
            c80, c95 = fc.conf_int(alpha=0.2), fc.conf_int(alpha=0.05)
            return Forecast(np.asarray(fc.predicted_mean), c80[:, 0], c80[:, 1], c95[:, 0],
                            c95[:, 1])
    raise ValueError(f"unknown model {model}")


def intermittent(y: np.ndarray, h: int, model: str, alpha: float = 0.1) -> Forecast:
    """Croston's method with the Syntetos-Boylan correction (`croston`: demand size and interval
    between demands smoothed at demand days, forecast (1 - alpha/2) x size / interval) or
    Teunter-Syntetos-Babai (`tsb`: demand probability smoothed every day, size at demand days,
    forecast probability x size). Flat over the horizon; intervals from the quantiles of the
    one-step-ahead in-sample errors."""
    nz = np.flatnonzero(y > 0)
    if nz.size == 0:
        z = np.zeros(h)
        return Forecast(z, z, z, z, z)
    size, gap, since = float(y[nz[0]]), float(nz[0] + 1), 0
    prob = float(np.mean(y > 0))
    fitted = np.full(len(y), np.nan)
    for t in range(nz[0] + 1, len(y)):
        fitted[t] = (1 - alpha / 2) * size / gap if model == "croston" else prob * size
        since += 1
        if y[t] > 0:
            size += alpha * (y[t] - size)
            if model == "croston":
                gap += alpha * (since - gap)
            since = 0
        if model == "tsb":
            prob += alpha * (float(y[t] > 0) - prob)
    f = (1 - alpha / 2) * size / gap if model == "croston" else prob * size
    resid = (y - fitted)[np.isfinite(fitted)]
    q = np.quantile(resid, [0.025, 0.1, 0.9, 0.975]) if resid.size >= 8 else np.array([-f, -f, f, 2 * f])
    # Error quantiles can all lie on one side of a flat rate: the bands always hold the forecast.
    lo80, hi80 = min(f, f + q[1]), max(f, f + q[2])
    lo95, hi95 = min(lo80, f + q[0]), max(hi80, f + q[3])
    mean = np.full(h, f)
    return Forecast(mean, np.full(h, lo80), np.full(h, hi80), np.full(h, lo95), np.full(h, hi95))


def forecast(y: np.ndarray, first_day: date, model: str, h: int,
             cal: np.ndarray | None = None) -> Forecast:
    """Forecast the `h` calendar days after `y` (which starts on `first_day`) with `model`.
    `cal`: the calendar's flags (conv_assets/forecast/calendar.py) for those len(y) + h days;
    days it marks closed are forecast 0."""
    fc = _forecast(np.asarray(y, dtype=float), first_day, model, h, cal)
    if cal is not None and cal[len(y):, 2].any():
        shut = cal[len(y):len(y) + h, 2] > 0
        fc = Forecast(*(np.where(shut, 0.0, b) for b in (fc.mean, fc.lo80, fc.hi80, fc.lo95, fc.hi95)))
    return fc


def _forecast(y: np.ndarray, first_day: date, model: str, h: int, cal: np.ndarray | None) -> Forecast:
    if model == "seasonal_naive":
        return seasonal_naive(y, h).clipped()
    if model in INTERMITTENT:
        return intermittent(y, h, model).clipped()
    if model == "fallback_mean":
        return mean_forecast(y, h).clipped()
    if model == "zero":
        z = np.zeros(h)
        return Forecast(z, z, z, z, z)
    closed = closed_weekdays(y, first_day)
    days = [first_day + timedelta(days=i) for i in range(len(y))]
    open_idx = [i for i, d in enumerate(days) if d.weekday() not in closed]
    future = [days[-1] + timedelta(days=i + 1) for i in range(h)] if days else []
    future_open = [i for i, d in enumerate(future) if d.weekday() not in closed]
    period = 7 - len(closed)
    exog = exog_future = None
    if model == CALENDAR_MODEL and cal is not None:
        exog = cal[:len(y), :2][open_idx]
        exog_future = cal[len(y):len(y) + h, :2][future_open]
    fc_open = _fit_open_days(y[open_idx], model, len(future_open), period, exog, exog_future)
    out = [np.zeros(h) for _ in range(5)]
    for band, values in zip(out, (fc_open.mean, fc_open.lo80, fc_open.hi80, fc_open.lo95,
                                  fc_open.hi95), strict=True):
        band[future_open] = values
    return Forecast(*out).clipped()


def errors(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, sMAPE (0..2, terms with both values 0 count as 0) and MASE.

    MASE divides MAE by the in-sample MAE of the seasonal naive forecast with period 7 on the
    training data; NaN when that scale is 0 (a constant weekly pattern).
    """
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    diff = actual - predicted
    mae = float(np.mean(np.abs(diff)))
    denom = np.abs(actual) + np.abs(predicted)
    smape_terms = np.where(denom == 0, 0.0, 2 * np.abs(diff) / np.where(denom == 0, 1, denom))
    train = np.asarray(train, dtype=float)
    scale = float(np.mean(np.abs(train[7:] - train[:-7]))) if len(train) > 7 else float("nan")
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "smape": float(np.mean(smape_terms)),
        "mase": mae / scale if scale and not math.isnan(scale) else float("nan"),
    }


def interval_score(actual: np.ndarray, lo: np.ndarray, hi: np.ndarray, alpha: float = 0.2) -> np.ndarray:
    """Per day, the interval score of a (1 - alpha) interval: its width plus 2/alpha times the
    distance by which the actual falls outside it (lower is better)."""
    return (hi - lo) + (2 / alpha) * (np.maximum(lo - actual, 0) + np.maximum(actual - hi, 0))


def conformal_scale(actual: np.ndarray, mean: np.ndarray, hi: np.ndarray, level: float) -> float:
    """The factor by which the upper half-widths (hi - mean) must be multiplied so that
    mean +- factor x half-width covers `level` of the days (split-conformal quantile of
    |actual - mean| / half-width, with the finite-sample correction); 1.0 with fewer than 14
    days of positive width."""
    w = hi - mean
    ok = w > 0
    if ok.sum() < 14:
        return 1.0
    r = np.sort(np.abs(actual[ok] - mean[ok]) / w[ok])
    k = min(len(r) - 1, int(np.ceil((len(r) + 1) * level)) - 1)
    return float(r[k])


def scaled(fc: Forecast, c80: float, c95: float) -> Forecast:
    """The forecast with its intervals rescaled around the mean (half-widths from the upper
    bounds), clipped at 0 and kept nested."""
    hi80 = fc.mean + c80 * (fc.hi80 - fc.mean)
    hi95 = np.maximum(fc.mean + c95 * (fc.hi95 - fc.mean), hi80)
    lo80 = fc.mean - c80 * (fc.hi80 - fc.mean)
    lo95 = np.minimum(fc.mean - c95 * (fc.hi95 - fc.mean), lo80)
    return Forecast(fc.mean, lo80, hi80, lo95, hi95).clipped()


def backtest_origins(n: int, h: int, windows: int) -> list[int]:
    """Indices where each rolling-origin window starts (train = y[:origin], test = next h)."""
    return [n - h * k for k in range(windows, 0, -1)]


def usable_windows(n: int, h: int, windows: int, min_train: int = 28) -> int:
    return max(0, min(windows, (n - min_train) // h))


@dataclass(frozen=True)
class SeriesResult:
    model: str
    reason: str
    backtest: list[dict]  # one row per candidate model, pooled over the windows
    forecast: Forecast
    # The chosen model's backtest forecasts, windows pooled in order (for reconciliation).
    backtest_pred: np.ndarray | None = None
    backtest_actual: np.ndarray | None = None


def _window_scores(actual: np.ndarray, fc: Forecast, train: np.ndarray) -> dict:
    """Per day: inside the 80% and 95% intervals (1.0 or 0.0) and the 80% interval score scaled
    by the in-sample MAE of seasonal naive; NaN on days forecast with certainty (a zero-width
    95% interval: closed weekdays), which would cover trivially."""
    scale = float(np.mean(np.abs(train[7:] - train[:-7]))) if len(train) > 7 else float("nan")
    skip = fc.hi95 - fc.lo95 <= 0
    nan = np.full(len(actual), np.nan)
    return {"cover80": np.where(skip, nan, (actual >= fc.lo80 - 1e-9) & (actual <= fc.hi80 + 1e-9)),
            "cover95": np.where(skip, nan, (actual >= fc.lo95 - 1e-9) & (actual <= fc.hi95 + 1e-9)),
            "is80": np.where(skip, nan, interval_score(actual, fc.lo80, fc.hi80) / scale if scale else nan)}


def _nanmean(parts: list) -> float | None:
    a = np.concatenate(parts)
    return float(np.nanmean(a)) if np.isfinite(a).any() else None


def _intervals(actuals: list, fcs: list, trains: list) -> dict:
    """Coverage and scaled interval score of the model's own intervals over every window, and
    of intervals calibrated on the other windows (leave one window out), plus the scales
    calibrated on every window (applied to the final forecast when calibration helps)."""
    raw = [_window_scores(a, f, t) for a, f, t in zip(actuals, fcs, trains, strict=True)]
    out = {"coverage_80": _nanmean([r["cover80"] for r in raw]),
           "coverage_95": _nanmean([r["cover95"] for r in raw]),
           "interval_score": _nanmean([r["is80"] for r in raw])}
    k = len(actuals)

    def scales(idx: list[int]) -> tuple[float, float]:
        a = np.concatenate([actuals[i] for i in idx])
        m = np.concatenate([fcs[i].mean for i in idx])
        return (conformal_scale(a, m, np.concatenate([fcs[i].hi80 for i in idx]), 0.8),
                conformal_scale(a, m, np.concatenate([fcs[i].hi95 for i in idx]), 0.95))

    if k < 2:
        return out | {"coverage_80_calibrated": None, "coverage_95_calibrated": None,
                      "interval_score_calibrated": None, "interval_scale_80": 1.0,
                      "interval_scale_95": 1.0}
    cal = [_window_scores(actuals[w], scaled(fcs[w], *scales([i for i in range(k) if i != w])),
                          trains[w]) for w in range(k)]
    c80, c95 = scales(list(range(k)))
    return out | {
        "coverage_80_calibrated": _nanmean([r["cover80"] for r in cal]),
        "coverage_95_calibrated": _nanmean([r["cover95"] for r in cal]),
        "interval_score_calibrated": _nanmean([r["is80"] for r in cal]),
        "interval_scale_80": c80, "interval_scale_95": c95}


def _weekly_blocks(abs_err: np.ndarray, h: int) -> np.ndarray:
    """Mean absolute error per block of 7 backtest days (whole windows of h days in order; a
    window shorter than a week is one block): the units the bootstrap resamples, so that
    neighbouring days, which err together, are not counted as independent evidence."""
    size = 7 if h >= 7 else h
    per_window = abs_err.reshape(-1, h)
    blocks = [w[i:i + size].mean() for w in per_window for i in range(0, h - size + 1, size)]
    return np.asarray(blocks)


def choose_and_forecast(
    y: np.ndarray, first_day: date, h: int = 14, windows: int = 4, models: tuple | None = None,
    cal: np.ndarray | None = None,
) -> SeriesResult:
    """Backtest every candidate over rolling origins and choose on every window but the latest
    (held out to judge the choice): seasonal naive, unless a model's MAE gain over it is sure
    (the lower 90% bound of a bootstrap over weekly blocks of backtest days above 0; on sparse
    series Croston instead of seasonal naive, and squared error), and of the sure ones the
    lowest loss. Intervals are scored
    (coverage, interval score) and calibrated on the backtest where that helps out of sample.
    The chosen model is refitted on all data to forecast. Intermittent models (Croston, TSB)
    are candidates for series with at least half of their days without sales, counted from the
    first sale (leading zero days are left out of everything).

    Short, constant or all-zero series fall back to a simple model without raising.
    """
    from conv_assets.choice import gains_over

    y = np.asarray(y, dtype=float)
    # A series starts at its first sale (a category launched later, a shop whose events begin
    # before its sales): the days before say nothing about its demand.
    start = int(np.argmax(y != 0)) if np.any(y != 0) else 0
    if start:
        y, first_day = y[start:], first_day + timedelta(days=start)
        cal = None if cal is None else cal[start:]
    sparse = bool(len(y)) and float(np.mean(y == 0)) >= INTERMITTENT_SHARE
    if models is None:
        models = MODELS + (INTERMITTENT if sparse else ())
        if cal is not None and cal[:len(y), :2].any():
            models += (CALENDAR_MODEL,)
    # The loss the choice compares: absolute error, or squared error on sparse series (where a
    # forecast of 0 would minimise the absolute error while the mean rate is what is wanted).
    metric, loss = ("mse", np.square) if sparse else ("mae", np.abs)
    if len(y) == 0 or not np.any(y):
        return SeriesResult("zero", "all-zero or empty series", [], forecast(y, first_day, "zero", h, cal))
    if np.all(y == y[0]):
        return SeriesResult("seasonal_naive", "constant series", [],
                            forecast(y, first_day, "seasonal_naive", h, cal))
    k = usable_windows(len(y), h, windows)
    if k == 0:
        model = "seasonal_naive" if len(y) >= 14 else "fallback_mean"
        return SeriesResult(model, f"too short to backtest ({len(y)} days)", [],
                            forecast(y, first_day, model, h, cal))
    origins = backtest_origins(len(y), h, k)
    rows, kept = [], {}
    for model in models:
        fcs, actuals, scales = [], [], []
        try:
            for origin in origins:
                train = y[:origin]
                fcs.append(forecast(train, first_day, model, h,
                                    None if cal is None else cal[:origin + h]))
                actuals.append(y[origin:origin + h])
                scales.append(train)
        except Exception as exc:
            rows.append({"model": model, "windows": k, "error": str(exc).splitlines()[0][:200]})
            continue
        preds = [f.mean for f in fcs]
        per_window = [errors(a, p, t) for a, p, t in zip(actuals, preds, scales, strict=True)]
        pooled = errors(np.concatenate(actuals), np.concatenate(preds), scales[-1])
        pooled["mase"] = float(np.nanmean([w["mase"] for w in per_window]))
        # With two windows or more, the latest is held out: the choice is made on the others,
        # and the holdout judges the choice honestly.
        select = per_window[:-1] if k >= 2 else per_window
        n_sel = len(select) * h
        kept[model] = (np.concatenate(actuals), np.concatenate(preds), n_sel)
        promo = (np.concatenate([cal[o:o + h, 0] for o in origins]) > 0
                 if cal is not None else np.zeros(0, dtype=bool))
        rows.append({"model": model, "windows": k, "first_origin": origins[0], **pooled,
                     "promotion_mae": float(np.mean(np.abs(kept[model][0] - kept[model][1])[promo]))
                     if promo.any() else None,
                     **_intervals(actuals, fcs, scales),
                     "selection_mae": float(np.mean([w["mae"] for w in select])),
                     "holdout_mae": per_window[-1]["mae"] if k >= 2 else None})
    scored = [r for r in rows if "mae" in r and not math.isnan(r["selection_mae"])]
    order = SPARSE_SIMPLEST_FIRST if sparse and any(r["model"] == "croston" for r in scored) else SIMPLEST_FIRST
    baseline = order[0]
    if not any(r["model"] == baseline for r in scored):
        # No baseline to be sure against (a candidate list without it): the lowest MAE.
        best = min(scored, key=lambda r: (r["selection_mae"], SIMPLEST_FIRST.index(r["model"])))["model"]
        reason = "lowest backtest MAE"
    else:
        per_block = {}
        for r in scored:
            actual, pred, n_sel = kept[r["model"]]
            per_block[r["model"]] = -_weekly_blocks(loss(actual - pred)[:n_sel], h)
        gains = gains_over(per_block, baseline, RESAMPLES, 0, LEVEL)
        sure = [m for m in order if m in per_block and gains[m][0] > 0]
        best = min(sure, key=lambda m: (-per_block[m].mean(), order.index(m))) if sure else baseline
        for r in scored:
            r["gain_low"], r["gain_high"] = gains[r["model"]]
            r["choice_metric"] = metric
        n_blocks = len(next(iter(per_block.values())))
        if best == baseline:
            reason = (f"no model's {metric.upper()} gain over {baseline} is sure (90% bootstrap "
                      f"over {n_blocks} weekly blocks of the selection windows)")
        else:
            lo, hi = gains[best]
            reason = (f"{metric.upper()} per day lower than {baseline} by {lo:,.4g} .. {hi:,.4g} "
                      f"(90%, bootstrap over {n_blocks} weekly blocks of the selection windows)")
            if len(sure) > 1:
                reason += f"; the lowest loss of the {len(sure)} sure ones ({', '.join(sure)})"
    try:
        fc = forecast(y, first_day, best, h, cal)
    except Exception:
        best, reason = "seasonal_naive", "chosen model failed on the full series"
        fc = forecast(y, first_day, best, h, cal)
    chosen = next((r for r in rows if r["model"] == best and "mae" in r), None)
    if (chosen and chosen["interval_score_calibrated"] is not None
            and chosen["interval_score"] is not None
            and chosen["interval_score_calibrated"] < chosen["interval_score"]):
        fc = scaled(fc, chosen["interval_scale_80"], chosen["interval_scale_95"])
        for r in rows:
            r["intervals"] = "calibrated" if r is chosen else None
        reason += "; intervals calibrated on the backtest"
    pred, actual = (kept[best][1], kept[best][0]) if best in kept else (None, None)
    return SeriesResult(best, reason, rows, fc, pred, actual)
