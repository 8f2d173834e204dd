"""Forecasting cost per series, and the wall time for N series (default 50), as the asset runs it.

    python bench/forecast_series.py [--series 50] [--days 365]

Each series gets the asset's full treatment (4 candidate models x 4 backtest windows + the final
fit, see conv_assets/forecast/models.py), in parallel across the cores with joblib exactly as
ml.sales_forecasts does; the bare reference fits one statsmodels ETS per series in a plain loop.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from datetime import date

import numpy as np
from joblib import Parallel, delayed

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def series(n: int, days: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        level = rng.uniform(50, 5000)
        weekly = rng.uniform(0.6, 1.4, 7)
        weekly[5] = 0 if i % 3 == 0 else weekly[5]  # a third of the shops close on Saturdays
        t = np.arange(days)
        y = level * weekly[t % 7] * (1 + rng.uniform(-0.001, 0.002) * t)
        out.append(np.maximum(0, y * rng.normal(1, 0.15, days)))
    return out


def fit_one(y: np.ndarray) -> str:
    from conv_assets.forecast.models import choose_and_forecast

    return choose_and_forecast(y, date(2024, 1, 1), h=14, windows=4).model


def bare(ys: list[np.ndarray]) -> float:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y in ys:
            ETSModel(y, error="add", trend="add", damped_trend=True, seasonal="add",
                     seasonal_periods=7).fit(disp=False).forecast(14)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--series", type=int, default=50)
    p.add_argument("--days", type=int, default=365)
    args = p.parse_args()
    ys = series(args.series, args.days)
    cores = os.cpu_count() or 1
    t0 = time.perf_counter()
    models = Parallel(n_jobs=cores, backend="loky")(delayed(fit_one)(y) for y in ys)
    wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit_one(ys[0])
    one = time.perf_counter() - t0
    bare_s = bare(ys)
    report = {
        "date": date.today().isoformat(), "cores": cores, "series": args.series, "days": args.days,
        "wall_seconds_all_series": wall, "seconds_per_series_one_process": one,
        "bare_ets_loop_seconds": bare_s, "bare_ets_seconds_per_series": bare_s / args.series,
        "models_chosen": {m: models.count(m) for m in sorted(set(models))},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
