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
Z80, Z95 = 1.2815515655446004, 1.959963984540054


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


def _fit_open_days(z: np.ndarray, model: str, h: int, period: int) -> Forecast:
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
        if model == "sarimax":
            endog = np.where(z == 0, np.nan, z).astype(float)
            seasonal = (0, 1, 1, period) if period > 1 else (0, 0, 0, 0)
            fit = SARIMAX(endog, order=(1, 0, 0), seasonal_order=seasonal).fit(disp=False)
            fc = fit.get_forecast(h)
            c80, c95 = fc.conf_int(alpha=0.2), fc.conf_int(alpha=0.05)
            return Forecast(np.asarray(fc.predicted_mean), c80[:, 0], c80[:, 1], c95[:, 0],
                            c95[:, 1])
    raise ValueError(f"unknown model {model}")


def forecast(y: np.ndarray, first_day: date, model: str, h: int) -> Forecast:
    """Forecast the `h` calendar days after `y` (which starts on `first_day`) with `model`."""
    y = np.asarray(y, dtype=float)
    if model == "seasonal_naive":
        return seasonal_naive(y, h).clipped()
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
    fc_open = _fit_open_days(y[open_idx], model, len(future_open), period)
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


def choose_and_forecast(
    y: np.ndarray, first_day: date, h: int = 14, windows: int = 4, models: tuple = MODELS
) -> SeriesResult:
    """Backtest every candidate over rolling origins, choose the lowest MAE on every window but
    the latest (held out to judge the choice), refit it on all data and forecast.

    Short, constant or all-zero series fall back to a simple model without raising.
    """
    y = np.asarray(y, dtype=float)
    if len(y) == 0 or not np.any(y):
        return SeriesResult("zero", "all-zero or empty series", [], forecast(y, first_day, "zero", h))
    if np.all(y == y[0]):
        return SeriesResult("seasonal_naive", "constant series", [],
                            forecast(y, first_day, "seasonal_naive", h))
    k = usable_windows(len(y), h, windows)
    if k == 0:
        model = "seasonal_naive" if len(y) >= 14 else "fallback_mean"
        return SeriesResult(model, f"too short to backtest ({len(y)} days)", [],
                            forecast(y, first_day, model, h))
    origins = backtest_origins(len(y), h, k)
    rows = []
    for model in models:
        preds, actuals, scales = [], [], []
        try:
            for origin in origins:
                train = y[:origin]
                preds.append(forecast(train, first_day, model, h).mean)
                actuals.append(y[origin:origin + h])
                scales.append(train)
        except Exception as exc:
            rows.append({"model": model, "windows": k, "error": str(exc).splitlines()[0][:200]})
            continue
        per_window = [errors(a, p, t) for a, p, t in zip(actuals, preds, scales, strict=True)]
        pooled = errors(np.concatenate(actuals), np.concatenate(preds), scales[-1])
        pooled["mase"] = float(np.nanmean([w["mase"] for w in per_window]))
        # With two windows or more, the latest is held out: the choice is made on the others,
        # and the holdout judges the choice honestly.
        select = per_window[:-1] if k >= 2 else per_window
        rows.append({"model": model, "windows": k, "first_origin": origins[0], **pooled,
                     "selection_mae": float(np.mean([w["mae"] for w in select])),
                     "holdout_mae": per_window[-1]["mae"] if k >= 2 else None})
    scored = [r for r in rows if "mae" in r and not math.isnan(r["selection_mae"])]
    best = min(scored, key=lambda r: (r["selection_mae"], MODELS.index(r["model"])))["model"]
    try:
        fc = forecast(y, first_day, best, h)
        reason = "lowest backtest MAE"
    except Exception:
        best, reason = "seasonal_naive", "chosen model failed on the full series"
        fc = forecast(y, first_day, best, h)
    return SeriesResult(best, reason, rows, fc)
