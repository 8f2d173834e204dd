"""The per-day anomaly checks: a day with a tenth of its events warns (in clean/events and in
the funnel), a normal day passes, a closed day (no file) is no alarm, and a day whose rows
arrive late warns. Expected ratios come from how the files are written here."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest

from conv_assets.definitions import ASSETS, build_resources
from tests.conftest import CANONICAL_HEADER, write_csv

FIRST, LAST = date(2024, 4, 1), date(2024, 5, 16)   # a Monday .. a Thursday
THIN = date(2024, 5, 15)       # a Wednesday with 4 shoppers instead of 40
CLOSED = date(2024, 5, 12)     # a Sunday with no file
NORMAL = date(2024, 5, 14)     # a Tuesday like every other


def _day_rows(day: date, shoppers: int) -> list[str]:
    """Each shopper views p1; every 2nd carts it, every 4th buys it at 10: 7 events per 4."""
    rows = []
    for i in range(shoppers):
        u, t = f"u{i}", f"{day}T{8 + i % 12:02d}:{i % 60:02d}"
        rows.append(f"{day}-v{i},{t}:00Z,view,{u},,p1,c,,10,,")
        if i % 2 == 0:
            rows.append(f"{day}-c{i},{t}:10Z,cart,{u},,p1,c,,10,1,")
        if i % 4 == 0:
            rows.append(f"{day}-p{i},{t}:20Z,purchase,{u},,p1,c,,10,1,{day}-o{i}")
    return rows


def _land(env) -> None:
    day = FIRST
    while day <= LAST:
        if day != CLOSED:
            write_csv(env.landing / f"{day}.csv", CANONICAL_HEADER,
                      _day_rows(day, 4 if day == THIN else 40))
        day += timedelta(days=1)


def _check(day: date, asset: str, name: str):
    """The check of `asset` from a run of that one day's partition (clean events with the raw
    events, as the ingest job runs them)."""
    text = f"key:{asset}" + (" or key:raw/events" if asset == "clean/events" else "")
    sel = dg.AssetSelection.from_string(text).required_multi_asset_neighbors()
    result = dg.materialize(ASSETS, resources=build_resources(), selection=sel,
                            partition_key=day.isoformat())
    [ev] = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return ev


@pytest.fixture
def shop(env):
    _land(env)
    env.run()
    return env


def test_a_tenth_of_the_events_warns_and_a_normal_or_closed_day_does_not(shop):
    # 40 shoppers make 70 events, 40 sessions and 10 orders of 10; 4 make 7, 4 and 1.
    assert shop.scalar("SELECT count(*) FROM clean.events WHERE event_date = $d", {"d": THIN}) == 7
    thin = _check(THIN, "clean/events", "daily_volume_normal")
    assert not thin.passed
    meta = {k: v.value for k, v in thin.metadata.items()}
    assert (meta["judged_day"], meta["events"], meta["events_weekday_median"]) == (
        "2024-05-15", 7.0, 70.0)
    assert meta["events_ratio"] == pytest.approx(0.1)
    assert meta["anomalous_days"] == 1
    funnel = _check(THIN, "analytics/daily_funnel", "daily_kpis_normal")
    assert not funnel.passed
    assert funnel.metadata["sessions_ratio"].value == pytest.approx(0.1)
    assert funnel.metadata["revenue_ratio"].value == pytest.approx(0.1)
    assert funnel.metadata["session_conversion_rate_ratio"].value == pytest.approx(1.0)

    for day in (NORMAL, CLOSED):
        assert _check(day, "clean/events", "daily_volume_normal").passed, day
        assert _check(day, "analytics/daily_funnel", "daily_kpis_normal").passed, day
    closed = _check(CLOSED, "clean/events", "daily_volume_normal")
    assert closed.metadata["days"].value["closed"] == 1
    # The latest day (it may still be filling up) is not judged, however thin.
    latest = _check(LAST, "clean/events", "daily_volume_normal")
    assert latest.passed and latest.metadata["days"].value["incomplete"] == 1


def test_the_full_run_warns_about_the_thin_day_only(env):
    _land(env)
    result = dg.materialize(ASSETS, resources=build_resources(), tags={
        "dagster/asset_partition_range_start": FIRST.isoformat(),
        "dagster/asset_partition_range_end": LAST.isoformat()})
    assert result.success  # warnings, not blocking
    for name in ("daily_volume_normal", "daily_kpis_normal"):
        [ev] = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
        assert not ev.passed and ev.metadata["anomalous_days"].value == 1, name
        assert ev.description.startswith("2024-05-15: ")


def test_rows_arriving_late_warn(shop):
    # Every file as if it had arrived the morning after its day...
    con = duckdb.connect(str(shop.warehouse))
    con.execute("UPDATE ops.ingested_files SET arrived_at = min_event_date + INTERVAL 30 HOUR")
    con.close()
    assert _check(NORMAL, "clean/events", "daily_volume_normal").passed
    # ... then the Tuesday's export is sent again, corrected, weeks later (now).
    rows = _day_rows(NORMAL, 40)
    write_csv(shop.landing / f"{NORMAL}.csv", CANONICAL_HEADER, rows[:-1] + [rows[-1] + " "])
    late = _check(NORMAL, "clean/events", "daily_volume_normal")
    assert not late.passed
    assert late.metadata["late_share"].value == 1.0
    assert late.metadata["events_ratio"].value == pytest.approx(1.0)

