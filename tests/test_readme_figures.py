"""Every figure in the README's "Results on real data" that no other test pins, asserted on the
same data. A change that moves one fails here until the README says the new value.

Counts are exact. Model figures are as printed in the README (rounded there to 3-4 places): the
models are seeded and fitted on fixed data, so the tolerance is half a unit of the last printed
digit, which only float summation order can move."""

from __future__ import annotations

import pytest

from tests.conftest import published


def test_uci_forecast_table(uci):
    rows = {m: (mae, mase, ratio) for m, mae, mase, ratio in uci.query(
        "SELECT model, mae, mase, mae_vs_seasonal_naive FROM ml.forecast_backtest "
        "WHERE series = 'total' AND measure = 'revenue'")}
    readme = {"ets_damped": (7724.7, 0.800, 0.715), "ets": (8010.1, 0.829, 0.741),
              "sarimax": (8495.2, 0.879, 0.786), "seasonal_naive": (10809.4, 1.119, 1.000)}
    for model, (mae, mase, ratio) in readme.items():
        assert rows[model][0] == pytest.approx(mae, abs=0.05), model
        assert rows[model][1] == pytest.approx(mase, abs=0.0005), model
        assert rows[model][2] == pytest.approx(ratio, abs=0.0005), model
    units = uci.query("SELECT model, mae_vs_seasonal_naive FROM ml.forecast_backtest "
                      "WHERE series = 'total' AND measure = 'units' AND chosen")
    assert units[0][0] == "ets" and units[0][1] == pytest.approx(0.734, abs=0.0005)
    intervals = {m: r for m, *r in uci.query(
        "SELECT model, gain_low, gain_high, coverage_80, coverage_80_calibrated, coverage_95, "
        "coverage_95_calibrated, interval_score, interval_score_calibrated FROM ml.forecast_backtest "
        "WHERE series = 'total' AND measure = 'revenue'")}
    readme = {"ets": (1395.7, 6272.2, 0.875, 0.792, 1.000, 0.979, 4.05, 3.99),
              "ets_damped": (1516.3, 6564.5, 0.792, 0.833, 0.958, 0.979, 4.21, 4.35),
              "sarimax": (855.5, 4966.1, 0.813, 0.833, 0.938, 0.958, 5.03, 5.39),
              "seasonal_naive": (0, 0, 0.875, 0.839, 0.964, 0.964, 5.20, 5.35)}
    for model, figures in readme.items():
        for got, want, digits in zip(intervals[model], figures, (1, 1, 3, 3, 3, 3, 2, 2), strict=True):
            assert got == pytest.approx(want, abs=0.5 * 10**-digits), model


def test_uci_user_intelligence(uci):
    meta = published(uci, "analytics/purchase_propensity")
    assert meta["test_users"] == 8_603
    assert meta["test_base_rate"] == pytest.approx(0.106, abs=0.0005)
    assert meta["top_decile_precision"] == pytest.approx(0.383, abs=0.0005)
    assert meta["top_decile_precision_recency_baseline"] == pytest.approx(0.204, abs=0.0005)
    assert uci.query("SELECT count(*) FILTER (flagged), count(*) FROM analytics.suspicious_activity "
                     "WHERE level = 'user'") == [(41, 4_371)]
    assert dict(uci.query("SELECT audience, count(*) FROM analytics.campaign_audiences "
                          "GROUP BY 1")) == {"high_value_at_risk": 63, "second_order_due": 377}
    assert uci.query("SELECT users FROM analytics.segment_summary WHERE segment = 'champions'") == [(710,)]


def test_uci_recommendation_table(uci):
    got = {(m, metric, k): v for m, metric, k, v in uci.query(
        "SELECT model, metric, k, value FROM ml.rec_evaluation WHERE \"window\" = 'test' AND task = 'discovery'")}
    readme = {
        ("precision", 10): (0.0756, 0.0685, 0.0718, 0.0708, 0.0715, 0.0506),
        ("recall", 20): (0.1110, 0.1118, 0.1095, 0.0989, 0.1098, 0.0718),
        ("ndcg", 10): (0.0979, 0.0909, 0.0953, 0.0910, 0.0941, 0.0634),
        ("map", 10): (0.0478, 0.0454, 0.0487, 0.0430, 0.0449, 0.0270),
        ("catalog_coverage", 10): (0.084, 0.173, 0.212, 0.074, 0.180, 0.013),
    }
    for (metric, k), values in readme.items():
        for model, value in zip(("blend", "als", "item_knn", "co_visitation", "ranker", "popularity"),
                                values, strict=True):
            digits = 3 if metric == "catalog_coverage" else 4
            assert round(got[(model, metric, k)], digits) == value, (model, metric)


def test_uci_segments_and_flags_in_detail(uci):
    champions = uci.query("SELECT revenue_share, avg_recency_days, avg_frequency "
                          "FROM analytics.segment_summary WHERE segment = 'champions'")[0]
    # README: 64% of revenue, 12 days since the last order, 13.7 orders; k = 4 plus prospects.
    assert (round(champions[0], 2), round(champions[1]), round(champions[2], 1)) == (0.64, 12, 13.7)
    assert uci.scalar("SELECT count(*) FROM analytics.segment_summary WHERE segment <> 'prospects'") == 4
    reasons = dict(uci.query(
        "SELECT r, count(*) FROM (SELECT unnest(string_split(reasons, ',')) AS r "
        "FROM analytics.suspicious_activity WHERE level = 'user' AND flagged) GROUP BY 1"))
    assert reasons == {"isolation_forest": 10, "many_returns": 31, "abnormal_order_value": 9,
                       "abnormal_order_size": 7}
    # The forest's top 1% are listed for review; alone they are not flagged.
    assert uci.scalar("SELECT count(*) FROM analytics.suspicious_activity "
                      "WHERE level = 'user' AND reasons = 'isolation_forest'") == 34
    assert uci.scalar("SELECT count(*) FROM clean.quarantine WHERE reason = 'duplicate'") == 5_227
    assert uci.scalar("SELECT count(*) FROM clean.events") == 401_602


def test_sample_sessions(taobao, rees46):
    assert taobao.scalar("SELECT count(DISTINCT session_id) FROM clean.events") == 14_122
    assert rees46.scalar("SELECT count(DISTINCT session_id) FROM clean.events") == 5_066
