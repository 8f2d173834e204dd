"""Per-day anomaly alarms: a day's figures against the same weekday's recent median.

Used by the non-blocking checks `daily_volume_normal` (clean/events: event count and the share
of rows that arrived late) and `daily_kpis_normal` (analytics/daily_funnel: sessions, revenue,
session conversion). The rule, per day:

- no events that day (a closed day, or no file): `closed`, never an alarm;
- the latest day with events (it may still be filling up): `incomplete`, not judged;
- fewer than 3 earlier same weekdays with events in the last CONV_ANOMALY_WEEKS (8) weeks:
  `no_baseline`, not judged;
- otherwise `alarm` when a figure divided by the median of those weekdays lies outside
  [CONV_ANOMALY_LOW, CONV_ANOMALY_HIGH] (default 0.5 to 2), or the late share exceeds its
  weekday median by more than CONV_ANOMALY_LATE_MARGIN (0.25); else `normal`.

A ratio band rather than a robust z-score: with 3 to 8 points per weekday the median absolute
deviation is often 0 (a steady shop), which makes any change infinitely "significant", while
"half or double the usual Wednesday" reads the same on every shop and every scale.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import dagster as dg
import polars as pl

from conv_assets.metadata import markdown_table

MIN_BASELINE_DAYS = 3


@dataclass(frozen=True)
class Band:
    weeks: int
    low: float
    high: float
    late_margin: float

    @classmethod
    def from_env(cls) -> Band:
        def num(name: str, default: float) -> float:
            raw = os.environ.get(name)
            try:
                return float(raw) if raw else default
            except ValueError:
                raise ValueError(f"{name} must be a number, got {raw!r}") from None

        return cls(int(num("CONV_ANOMALY_WEEKS", 8)), num("CONV_ANOMALY_LOW", 0.5),
                   num("CONV_ANOMALY_HIGH", 2.0), num("CONV_ANOMALY_LATE_MARGIN", 0.25))


def judge(days: pl.DataFrame, count: str, measures: list[str], band: Band) -> pl.DataFrame:
    """`days`: one row per day with each measure `m` and `baseline_m`, `baseline_days`, `latest`
    (and optionally `late_share`/`baseline_late_share`). Adds `<m>_ratio`, `status`, `reason`."""
    out = days.with_columns(
        (pl.col(m) / pl.when(pl.col(f"baseline_{m}") > 0).then(pl.col(f"baseline_{m}")))
        .cast(pl.Float64).alias(f"{m}_ratio") for m in measures)
    statuses, reasons = [], []
    for row in out.iter_rows(named=True):
        why = []
        if not row[count]:
            status = "closed"
        elif row["latest"]:
            status = "incomplete"
        elif row["baseline_days"] < MIN_BASELINE_DAYS:
            status = "no_baseline"
        else:
            for m in measures:
                r = row[f"{m}_ratio"]
                if r is not None and not band.low <= r <= band.high:
                    why.append(f"{m} {r:.2f}x the weekday median")
            late, usual = row.get("late_share"), row.get("baseline_late_share")
            if late is not None and usual is not None and late - usual > band.late_margin:
                why.append(f"late share {late:.0%} (weekday median {usual:.0%})")
            status = "alarm" if why else "normal"
        statuses.append(status)
        reasons.append("; ".join(why) or None)
    return out.with_columns(pl.Series("status", statuses), pl.Series("reason", reasons, pl.String))


def check_result(name: str, judged: pl.DataFrame, measures: list[str], band: Band,
                 asset_key: dg.AssetKey) -> tuple[dg.AssetCheckResult, dict]:
    """The warning check over the run's days, and the numbers of its last judged day (also for
    the materialization, whose numeric metadata the UI plots over time)."""
    judged_days = judged.filter(pl.col("status").is_in(["alarm", "normal"]))
    alarms = judged.filter(pl.col("status") == "alarm")
    numbers: dict = {}
    if judged_days.height:
        last = judged_days.row(-1, named=True)
        numbers["judged_day"] = dg.MetadataValue.text(str(last["event_date"]))
        for m in measures:
            for key, col in ((m, m), (f"{m}_weekday_median", f"baseline_{m}"),
                             (f"{m}_ratio", f"{m}_ratio")):
                if last[col] is not None:
                    numbers[key] = float(last[col])
        if "late_share" in judged.columns and last["late_share"] is not None:
            numbers["late_share"] = float(last["late_share"])
    shown = pl.concat([alarms, judged.tail(7)]).unique("event_date", keep="first").sort("event_date")
    counts = {s: judged.filter(pl.col("status") == s).height
              for s in ("normal", "alarm", "closed", "incomplete", "no_baseline")}
    result = dg.AssetCheckResult(
        check_name=name, asset_key=asset_key, passed=alarms.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        description=("; ".join(f"{d}: {r}" for d, r in alarms.select("event_date", "reason")
                               .head(5).iter_rows()) or None),
        metadata=numbers | {
            "anomalous_days": alarms.height,
            "days": dg.MetadataValue.json(counts),
            "band": dg.MetadataValue.text(f"{band.low}x..{band.high}x the median of the same "
                                          f"weekday over {band.weeks} weeks"),
            "by_day": dg.MetadataValue.md(markdown_table(shown.drop("latest"), max_rows=40)),
        })
    return result, numbers
