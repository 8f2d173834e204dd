"""rates_within_0_1 fails on a rate out of range, and being blocking, stops what reads the
funnel (the analyst copy) from being published."""

from __future__ import annotations

import dagster as dg

from conv_assets.definitions import ASSETS, build_resources
from tests.conftest import CANONICAL_HEADER, write_csv

COPY = dg.AssetKey(["ops", "analyst_copy"])


def _run() -> dg.ExecuteInProcessResult:
    sel = dg.AssetSelection.from_string(
        "key:raw/events or key:clean/events or key:analytics/sessions or "
        "key:analytics/daily_funnel or key:ops/analyst_copy")
    return dg.materialize(ASSETS, resources=build_resources(), raise_on_error=False,
                          selection=sel.required_multi_asset_neighbors(),
                          tags={"dagster/asset_partition_range_start": "2024-05-06",
                                "dagster/asset_partition_range_end": "2024-05-07"})


def _outcome(result) -> tuple[bool, int, bool]:
    [ev] = [e for e in result.get_asset_check_evaluations() if e.check_name == "rates_within_0_1"]
    published = any(e.asset_key == COPY for e in result.get_asset_materialization_events())
    return ev.passed, ev.metadata["rows_out_of_range"].value, published


def test_a_rate_above_one_fails_rates_within_0_1_and_stops_the_analyst_copy(env, monkeypatch):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, [
        "e1,2024-05-06T10:00:00Z,view,u1,,p1,c,,10,,",
        "e2,2024-05-06T10:01:00Z,cart,u1,,p1,c,,10,1,",
        "e3,2024-05-07T10:00:00Z,view,u2,,p1,c,,10,,",
    ])
    good = _run()
    assert good.success and _outcome(good) == (True, 0, True)

    # The defect: the funnel SQL writes a rate of 1.5 in one row.
    import conv_assets.analytics.assets as analytics

    real = analytics.run_sql

    def broken(con, name, **params):
        out = real(con, name, **params)
        if name == "analytics/insert_daily_funnel":
            con.execute("UPDATE analytics.daily_funnel SET view_to_cart_rate = 1.5 "
                        "WHERE category = '(all)' AND event_date = DATE '2024-05-06'")
        return out

    monkeypatch.setattr(analytics, "run_sql", broken)
    bad = _run()
    assert not bad.success
    assert _outcome(bad) == (False, 1, False)
