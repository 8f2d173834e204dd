"""The demo's closing summary: each headline result next to its baseline."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from conv_assets.generate import TRUTH
from conv_assets.resources import open_warehouse, sql_frame


def _row(con, name: str) -> dict | None:
    frame = sql_frame(con, name)
    return frame.row(0, named=True) if frame.height else None


def summary(warehouse: str, landing_dir: str, metadata: dict[str, dict]) -> str:
    """Funnel, checkout funnel, attribution by channel, segments, forecast vs seasonal naive, propensity vs recency, served
    recommendations vs popularity, and suspicious activity vs the generator's ground truth."""
    lines = ["", "=== demo summary: results next to their baselines ==="]
    con = open_warehouse(warehouse, read_only=True)
    try:
        f = _row(con, "demo/summary_funnel")
        if f and f["sessions"]:
            def pct(n):
                return f"{(n or 0) / f['sessions']:.1%}"
            lines.append(
                f"funnel {f['first_day']} .. {f['last_day']}: {f['sessions']:,} sessions -> "
                f"view {pct(f['viewed'])} -> cart {pct(f['carted'])} -> purchase "
                f"{pct(f['purchased'])}; {f['orders']:,} orders, revenue {f['revenue']:,.0f}")
        steps = sql_frame(con, "demo/summary_checkout_funnel")
        if steps.height:
            top = steps["entered"][0] or 1
            lines.append(
                f"checkout funnel (users, 7-day window) {steps['first_day'].min()} .. "
                f"{steps['last_day'].max()}: " + " -> ".join(
                    f"{r['step_name']} {r['entered']:,} ({r['entered'] / top:.0%})"
                    for r in steps.iter_rows(named=True)))
        attribution = sql_frame(con, "demo/summary_attribution")
        for model in ("last_touch", "first_touch", "linear", "position_based"):
            rows = attribution.filter(attribution["model"] == model)
            if rows.height:
                lines.append(f"attribution, {model}: " + ", ".join(
                    f"{r['channel']} {(r['revenue_share'] or 0):.0%}"
                    + (f" (ROAS {r['roas']:.1f})" if r["roas"] is not None else "")
                    for r in rows.iter_rows(named=True)))
        seg = sql_frame(con, "demo/summary_segments")
        if seg.height:
            lines.append("segments: " + ", ".join(
                f"{r['segment']} {r['users']:,} ({(r['revenue_share'] or 0):.0%} of revenue)"
                for r in seg.iter_rows(named=True)))
        fc = _row(con, "demo/summary_forecast")
        if fc:
            held = (f"; held-out latest window {fc['holdout_mae']:,.0f} vs {fc['naive_holdout_mae']:,.0f} "
                    f"({fc['holdout_mae_vs_seasonal_naive']:.2f}x)" if fc["holdout_mae"] is not None else "")
            lines.append(
                f"forecast, total revenue: {fc['model']} MAE {fc['mae']:,.0f} vs seasonal naive "
                f"{fc['naive_mae']:,.0f} ({fc['mae_vs_seasonal_naive']:.2f}x) over {fc['windows']} "
                f"windows of 14 days{held}")
        else:
            lines.append("forecast: no backtest (history too short)")
        cal = _row(con, "demo/summary_calendar")
        if cal:
            lines.append(
                f"forecast with the calendar (promotions as regressors), total revenue on the "
                f"backtest's promotion days: sarimax_calendar MAE {cal['with_calendar']:,.0f} vs "
                f"sarimax {cal['without_calendar']:,.0f} "
                f"({cal['with_calendar'] / cal['without_calendar'] - 1:+.0%}); all days "
                f"{cal['with_calendar_all_days']:,.0f} vs {cal['without_calendar_all_days']:,.0f}; "
                f"chosen: {cal['chosen']}")
        p = metadata.get("analytics/purchase_propensity", {})
        if "roc_auc" in p:
            lines.append(f"purchase propensity (next 7 days), {p['model']}: ROC AUC {p['roc_auc']:.3f} "
                         f"vs recency {p['roc_auc_recency_baseline']:.3f}")
        elif p:
            lines.append(f"purchase propensity: {p.get('model')} (no model trained)")
        for r in sql_frame(con, "demo/summary_recs").iter_rows(named=True):
            ratio = f" ({r['value'] / r['popularity']:.2f}x)" if r["popularity"] else ""
            lines.append(f"recommendations, {r['task']} task, {r['window']} window: served {r['model']} ndcg@10 "
                         f"{r['value']:.4f} vs popularity {r['popularity']:.4f}{ratio}, "
                         f"{r['users']:,} users")
        truth_file = Path(landing_dir) / TRUTH
        if truth_file.exists():
            con.register("truth", pl.read_csv(truth_file, schema_overrides={"user_id": pl.String}).to_arrow())
            s = _row(con, "demo/summary_suspicious")
            precision = s["caught"] / s["flagged"] if s["flagged"] else 0.0
            recall = s["caught"] / s["bad_actors"] if s["bad_actors"] else 0.0
            lines.append(f"suspicious activity vs ground truth: precision {precision:.2f}, recall "
                         f"{recall:.2f} ({s['caught']} of {s['bad_actors']} bad actors among "
                         f"{s['flagged']} flagged users)")
    finally:
        con.close()
    return "\n".join(lines)
