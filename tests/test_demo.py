"""`conv-assets demo` as a new user runs it: every model trains on the default demo shop and
beats its baseline; the closing summary says so. Figures are recomputed here from the
warehouse and the generator's ground truth."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb


def test_default_demo(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONV_", "DAGSTER_HOME"))}
    exe = Path(sys.executable).with_name("conv-assets")
    out = subprocess.run([str(exe), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    summary = text[text.index("=== demo summary"):]
    for label in ("funnel", "checkout funnel", "attribution, last_touch", "segments:",
                  "forecast with the calendar (promotions as regressors)", "forecast, total revenue", "purchase propensity",
                  "recommendations, discovery task, test window",
                  "recommendations, repeat task, test window", "suspicious activity vs ground truth"):
        assert label in summary, label
    con = duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    (first, last), = q("SELECT min(event_date), max(event_date) FROM clean.events")
    assert last - first >= timedelta(110)  # about 120 days by default
    # Every model trains: no fallback anywhere.
    assert q("SELECT DISTINCT model FROM analytics.purchase_propensity") == [("gradient_boosting",)]
    (chosen, naive), = q("""SELECT c.mae, n.mae FROM ml.forecast_backtest c JOIN ml.forecast_backtest n
        ON n.series = c.series AND n.measure = c.measure AND n.model = 'seasonal_naive'
        WHERE c.series = 'total' AND c.measure = 'revenue' AND c.chosen""")
    assert chosen <= 0.9 * naive
    # Categories (and 'other') add up to the total's forecast every day, for both measures.
    gap = q("""SELECT max(abs(c.s - t.forecast) / greatest(t.forecast, 1)), count(*) FROM ml.sales_forecasts t
        JOIN (SELECT measure, forecast_date, sum(forecast) AS s FROM ml.sales_forecasts
              WHERE series <> 'total' GROUP BY ALL) c USING (measure, forecast_date)
        WHERE t.series = 'total'""")
    assert gap[0][0] < 1e-6 and gap[0][1] == 28
    auc, base = map(float, re.search(r"ROC AUC ([\d.]+) vs recency ([\d.]+)", summary).groups())
    assert auc >= base + 0.05
    ratio = dict(q("""SELECT s.task, s.value / p.value FROM ml.rec_evaluation s
        JOIN ml.rec_evaluation p ON p.task = s.task AND p."window" = s."window"
        AND p.metric = s.metric AND p.model = 'popularity'
        WHERE s.served AND s."window" = 'test' AND s.metric = 'ndcg'"""))
    # The shop has purchase cycles: the buy-again list doubles popularity on the repeat task.
    assert ratio["discovery"] >= 1.5 and ratio["repeat"] >= 2.0
    assert q("SELECT DISTINCT list FROM ml.user_recommendations ORDER BY 1") == [
        ("buy_again",), ("discovery",)]
    # The checkout funnel's first step: users with a begin_checkout, per day, counted here.
    (began,), = q("SELECT count(*) FROM (SELECT DISTINCT user_id, event_date FROM clean.events "
                  "WHERE event_type = 'begin_checkout')")
    assert began > 1000
    assert re.search(rf"checkout funnel \(users, 7-day window\) \S+ \.\. \S+: begin_checkout {began:,} \(100%\) "
                     r"-> add_shipping_info [\d,]+ \(\d+%\) -> add_payment_info [\d,]+ \(\d+%\) -> "
                     r"purchase [\d,]+ \(\d+%\)", summary), summary
    # Last touch, revenue shares from the order's own session, computed here (the session's
    # first event with a utm_source, else its referrer's host, else direct).
    share = dict(q("""WITH s AS (
            SELECT session_id, coalesce(
                arg_min(utm_source || ' / ' || utm_medium, event_time) FILTER (utm_source IS NOT NULL),
                arg_min('(referral) ' || split_part(referrer, '/', 3), event_time) FILTER (referrer IS NOT NULL),
                '(direct)') AS channel
            FROM clean.events GROUP BY 1),
        o AS (SELECT arg_min(session_id, event_time) AS session_id, sum(price * quantity) AS revenue
              FROM clean.events WHERE event_type = 'purchase' GROUP BY order_id)
        SELECT channel, sum(revenue) / sum(sum(revenue)) OVER () FROM o JOIN s USING (session_id)
        GROUP BY 1"""))
    for channel in ("google / cpc", "newsletter / email", "(direct)"):
        assert f"{channel} {share[channel]:.0%}" in summary.split("attribution, last_touch: ")[1].splitlines()[0]
    assert "(ROAS " in summary
    truth = tmp_path / "data" / "landing" / ".truth" / "suspicious_users.csv"
    bad = {line.split(",")[0] for line in truth.read_text().splitlines()[1:]}
    flagged = {u for (u,) in q("SELECT user_id FROM analytics.suspicious_activity WHERE level = 'user' AND flagged")}
    precision, recall = len(bad & flagged) / len(flagged), len(bad & flagged) / len(bad)
    assert recall >= 0.8 and precision >= 0.5
    assert f"precision {precision:.2f}, recall {recall:.2f}" in summary
