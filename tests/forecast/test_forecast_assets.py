"""daily_sales gap filling, forecasts in the warehouse, and the UCI quality figure."""

from __future__ import annotations

from datetime import date

from tests.conftest import CANONICAL_HEADER, write_csv


def test_daily_sales_fills_days_without_sales(env):
    write_csv(env.landing / "s.csv", CANONICAL_HEADER, [
        "a,2024-05-06T10:00:00Z,purchase,u1,,p1,shoes,,10,2,o1",
        "b,2024-05-06T11:00:00Z,purchase,u2,,p2,hats,,5,1,o2",
        "c,2024-05-06T11:00:00Z,view,u2,,p2,hats,,5,,",
        # 05-07: a view but no sale; 05-08: nothing at all
        "d,2024-05-07T11:00:00Z,view,u2,,p2,hats,,5,,",
        "e,2024-05-09T09:00:00Z,purchase,u1,,p2,hats,,5,3,o3",
    ])
    env.set(CONV_FORECAST_TOP_CATEGORIES="1")
    env.run()
    rows = env.query(
        "SELECT event_date, series, orders, units, revenue, buyers, no_sales, shop_closed "
        "FROM analytics.daily_sales ORDER BY event_date, series")
    d6, d7, d8, d9 = (date(2024, 5, d) for d in (6, 7, 8, 9))
    # shoes and hats both sell 20 in all; the tie goes to more purchases (hats), shoes is "other"
    assert rows == [
        (d6, "category:hats", 1, 1, 5, 1, False, False),
        (d6, "other", 1, 2, 20, 1, False, False),
        (d6, "total", 2, 3, 25, 2, False, False),
        (d7, "category:hats", 0, 0, 0, 0, True, True),
        (d7, "other", 0, 0, 0, 0, True, True),
        (d7, "total", 0, 0, 0, 0, True, True),
        (d8, "category:hats", 0, 0, 0, 0, True, True),
        (d8, "other", 0, 0, 0, 0, True, True),
        (d8, "total", 0, 0, 0, 0, True, True),
        (d9, "category:hats", 1, 3, 15, 1, False, False),
        (d9, "other", 0, 0, 0, 0, True, False),
        (d9, "total", 1, 3, 15, 1, False, False),
    ]
    # Short history: the forecast falls back without raising, and is never negative.
    assert env.scalar("SELECT count(*) FROM ml.sales_forecasts WHERE measure = 'revenue' "
                      "AND series = 'total'") == 14
    assert env.scalar("SELECT min(least(forecast, lower_80, lower_95)) FROM ml.sales_forecasts") >= 0


def test_uci_total_revenue_beats_seasonal_naive(uci):
    model, ratio, windows, end = uci.query(
        "SELECT model, mae_vs_seasonal_naive, windows, history_end FROM ml.forecast_backtest "
        "WHERE series = 'total' AND measure = 'revenue' AND chosen")[0]
    assert windows == 4
    assert end == date(2011, 12, 8)   # the last day in the data (12-09) may be partial
    assert ratio <= 0.95, (model, ratio)
    # Saturdays are closed: forecast zero.
    assert uci.scalar("SELECT max(upper_95) FROM ml.sales_forecasts WHERE dayofweek(forecast_date) = 6") == 0
    assert uci.scalar("SELECT count(*) FILTER (shop_closed) FROM analytics.daily_sales WHERE series = 'total' "
                      "AND event_date BETWEEN '2010-12-01' AND '2011-12-08'") == 69
