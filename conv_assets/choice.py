"""Choosing between models with an uncertainty estimate: a paired bootstrap of per-unit
differences (users for recommendations, weeks of backtest days for forecasts), and the rule
that serves a more complex model only when its gain over every simpler sure one is sure too."""

from __future__ import annotations

import numpy as np


def paired_bootstrap(diff: np.ndarray, resamples: int = 2000, seed: int = 0,
                     level: float = 0.90) -> tuple[float, float]:
    """Percentile interval (`level`, two-sided) of the mean of paired per-user differences,
    users resampled with replacement `resamples` times (seeded). NaN for no users."""
    n = len(diff)
    if n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    step = max(1, (1 << 21) // n)  # about 16 MB of indices at a time
    for s in range(0, resamples, step):
        b = min(step, resamples - s)
        means[s:s + b] = diff[rng.integers(0, n, size=(b, n))].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def gains_over(per_unit: dict[str, np.ndarray], baseline: str, resamples: int, seed: int,
               level: float = 0.90) -> dict[str, tuple[float, float]]:
    """Each model's paired-bootstrap interval of its per-unit gain over `baseline` ((0, 0) for
    the baseline itself)."""
    return {m: (0.0, 0.0) if m == baseline else
            paired_bootstrap(per_unit[m] - per_unit[baseline], resamples, seed, level)
            for m in per_unit}


def confident_choice(per_user: dict[str, np.ndarray], order: tuple[str, ...], baseline: str,
                     resamples: int, seed: int, level: float = 0.90):
    """The model to serve, from per-user ndcg on validation; `order` runs from the simplest
    model to the most complex. Sure to beat `baseline`: the lower bound of a paired bootstrap
    of the per-user gain above 0. Of those, the best mean wins, unless a simpler one of them is
    within noise of it (the best's gain over it not sure): then the simplest such one. With
    none sure, `baseline`. Returns (model, every model's interval over the baseline (the
    baseline's is (0, 0)), and (best, its interval over the served model) when a simpler model
    was served instead of the best, else None)."""
    def gain(a: str, b: str) -> tuple[float, float]:
        return paired_bootstrap(per_user[a] - per_user[b], resamples, seed, level)

    gains = gains_over(per_user, baseline, resamples, seed, level)
    sure = [m for m in order if m in per_user and m != baseline and gains[m][0] > 0]
    if not sure:
        return baseline, gains, None
    best = max(sure, key=lambda m: (per_user[m].mean(), -order.index(m)))
    for m in sure:  # simplest first: a gain within noise buys no complexity
        if m == best:
            return best, gains, None
        over = gain(best, m)
        if over[0] <= 0:
            return m, gains, (best, over)
    raise AssertionError("unreachable: best is in sure")
