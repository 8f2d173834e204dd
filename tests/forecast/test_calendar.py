"""The forecasts' calendar: landed files and public holidays, flags per series, promotions as
regressors and closed days forecast 0."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pytest

from conv_assets.forecast.calendar import load_calendar
from conv_assets.forecast.models import CALENDAR_MODEL, choose_and_forecast, forecast

MONDAY = date(2024, 1, 1)


def test_calendar_files_and_public_holidays(tmp_path, monkeypatch):
    (tmp_path / "calendar.csv").write_text(
        "date,kind,category\n2011-11-25,promotion,toys\n2011-11-26,Promotion,\n"
        "2011-12-24,closed,\nnot a day,promotion,toys\n2011-11-27,sale,toys\n")
    (tmp_path / "calendar_extra.csv").write_text("date,kind\n2011-12-31,closed\n")
    monkeypatch.setenv("CONV_HOLIDAYS_COUNTRY", "GB")
    con = duckdb.connect()
    cal = load_calendar(con, str(tmp_path), date(2011, 1, 1), date(2011, 12, 9))
    assert (cal.files, cal.rejected, cal.country) == (2, 2, "GB")
    top = {"total", "category:toys", "category:games", "other"}
    first = date(2011, 11, 25)
    f = {s: cal.flags(s, first, 40, top) for s in top}
    # 11-25: a toys promotion (toys and the total); 11-26: the whole shop's (every series).
    assert [f[s][0, 0] for s in ("total", "category:toys", "category:games", "other")] == [1, 1, 0, 0]
    assert all(f[s][1, 0] == 1 for s in top)
    # Closed 12-24 and 12-31 (landed), holidays 12-25, 12-26 and 12-27 (GB: Christmas and Boxing
    # Day observed on the Tuesday in 2011), from the holidays package.
    assert [first + timedelta(days=int(i)) for i in np.flatnonzero(f["total"][:, 2])] == [
        date(2011, 12, 24), date(2011, 12, 31)]
    assert [first + timedelta(days=int(i)) for i in np.flatnonzero(f["total"][:, 1])] == [
        date(2011, 12, 25), date(2011, 12, 26), date(2011, 12, 27), date(2012, 1, 1), date(2012, 1, 2)]
    monkeypatch.setenv("CONV_HOLIDAYS_COUNTRY", "XX")
    with pytest.raises(ValueError, match="CONV_HOLIDAYS_COUNTRY=XX"):
        load_calendar(con, str(tmp_path), date(2011, 1, 1), date(2011, 12, 9))


def test_promotions_as_regressors_and_a_closed_day():
    """Sales lifted by 60% on two days every fortnight: SARIMAX with the calendar forecasts the
    backtest's promotion days far better than without it, and is chosen; a day the calendar
    closes is forecast 0."""
    rng = np.random.default_rng(5)
    n, h = 182, 14
    cal = np.zeros((n + h, 3))
    cal[np.arange(n + h) % 14 < 2, 0] = 1.0
    cal[n + 3, 2] = 1.0                       # closed on the 4th day forecast
    t = np.arange(n)
    y = (200 + 30 * np.sin(2 * np.pi * t / 7)) * (1 + 0.6 * cal[:n, 0]) + rng.normal(0, 8, n)
    res = choose_and_forecast(y, MONDAY, h=h, windows=4, cal=cal)
    rows = {r["model"]: r for r in res.backtest}
    assert rows[CALENDAR_MODEL]["promotion_mae"] < 0.5 * rows["sarimax"]["promotion_mae"]
    assert res.model == CALENDAR_MODEL
    assert res.forecast.mean[3] == 0 and res.forecast.hi95[3] == 0 and res.forecast.mean[2] > 0
    # The promotion days ahead (forecast days 0-1, n % 14 == 0) are forecast higher.
    assert n % 14 == 0 and res.forecast.mean[:2].mean() > 1.3 * res.forecast.mean[4:7].mean()
    # Without a calendar the same model is plain SARIMAX.
    np.testing.assert_allclose(forecast(y, MONDAY, CALENDAR_MODEL, h).mean,
                               forecast(y, MONDAY, "sarimax", h).mean)
