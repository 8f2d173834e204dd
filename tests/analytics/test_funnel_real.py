"""Analytics on the real samples, checked against numbers computed here independently."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from tests.conftest import SHARED


def test_taobao_funnel_for_all_nine_days(taobao):
    days = taobao.query(
        "SELECT event_date, sessions FROM analytics.daily_funnel WHERE category = '(all)' "
        "AND event_date BETWEEN '2017-11-25' AND '2017-12-03' ORDER BY 1")
    assert [d for d, _ in days] == [date(2017, 11, 25 + i) if i < 6 else date(2017, 12, i - 5)
                                    for i in range(9)]
    assert all(n > 0 for _, n in days)
    # purchase/view ratio: the funnel's figures against a direct count over clean.events
    funnel = taobao.query(
        "SELECT sum(sessions_with_purchase), sum(sessions_with_view), sum(sessions) "
        "FROM analytics.daily_funnel WHERE category = '(all)'")[0]
    direct = taobao.query("""
        SELECT count(*) FILTER (p), count(*) FILTER (v OR p OR c), count(*) FROM (
            SELECT user_id, session_id, bool_or(event_type = 'purchase') p,
                   bool_or(event_type = 'view') v, bool_or(event_type = 'cart') c
            FROM clean.events GROUP BY ALL)""")[0]
    assert funnel == direct
    products = taobao.query(
        "SELECT sum(purchases), sum(views) FROM analytics.product_conversion WHERE level = 'product'")[0]
    window = taobao.query("SELECT min(window_start), max(window_end) FROM analytics.product_conversion")[0]
    assert products == taobao.query(
        "SELECT count(*) FILTER (event_type = 'purchase'), count(*) FILTER (event_type = 'view') "
        "FROM clean.events WHERE event_date BETWEEN $a AND $b", {"a": window[0], "b": window[1]})[0]
    # No prices in Taobao: revenue is unknown, not zero.
    assert taobao.scalar("SELECT count(revenue) FROM analytics.daily_funnel") == 0
    assert taobao.scalar(
        "SELECT count(*) FROM analytics.daily_funnel WHERE view_to_cart_rate > 1 "
        "OR cart_to_purchase_rate > 1 OR session_conversion_rate > 1") == 0


def test_rees46_sessions_keep_source_ids_and_revenue_adds_up(rees46):
    csv = str(SHARED / "rees46" / "2019-Oct_head.csv")
    con = duckdb.connect()
    source_sessions = {r[0] for r in con.execute(
        "SELECT DISTINCT user_session FROM read_csv($p, all_varchar=true)", {"p": csv}).fetchall()}
    revenue, buying_sessions = con.execute(
        "SELECT sum(CAST(price AS DECIMAL(18,4))), count(DISTINCT user_session) "
        "FROM read_csv($p, all_varchar=true) WHERE event_type = 'purchase'", {"p": csv}).fetchall()[0]
    assert {r[0] for r in rees46.query("SELECT session_id FROM analytics.sessions")} == source_sessions
    got = rees46.query(
        "SELECT sum(revenue), sum(orders) FROM analytics.daily_funnel WHERE category = '(all)'")[0]
    assert got == (revenue, buying_sessions)
    assert got == rees46.query(
        "SELECT sum(price * quantity), count(DISTINCT session_id) FROM clean.events "
        "WHERE event_type = 'purchase'")[0]


@pytest.fixture(scope="module")
def uci_lines() -> pl.DataFrame:
    """Invoice lines read straight from the CSV files with polars (not through the pipeline)."""
    files = sorted((SHARED / "online_retail" / "by-day").glob("*.csv"))
    df = pl.concat([pl.read_csv(f, infer_schema=False) for f in files])
    return (
        df.filter(pl.col("CustomerID").is_not_null())
        .unique()  # exact repeated lines count once
        .with_columns(
            pl.col("Quantity").cast(pl.Int64),
            pl.col("UnitPrice").cast(pl.Decimal(18, 4)),
            pl.col("InvoiceDate").str.to_datetime("%Y-%m-%d %H:%M:%S"),
            pl.col("CustomerID").str.replace(r"\.0$", ""),
        )
    )


def test_uci_daily_orders_revenue_aov(uci, uci_lines):
    sales = uci_lines.filter(~pl.col("InvoiceNo").str.starts_with("C") & (pl.col("Quantity") > 0))
    for day in (date(2010, 12, 1), date(2011, 6, 15), date(2011, 12, 9)):
        d = sales.filter(pl.col("InvoiceDate").dt.date() == day)
        orders = d["InvoiceNo"].n_unique()
        revenue = (d["UnitPrice"] * d["Quantity"]).sum()
        got = uci.query(
            "SELECT orders, revenue, average_order_value FROM analytics.daily_funnel "
            "WHERE category = '(all)' AND event_date = $d", {"d": day})[0]
        assert got[0] == orders
        assert got[1] == revenue
        assert abs(float(got[2]) - float(revenue) / orders) < 1e-3
    # Funnel steps cannot be measured without views: NULL, not zero.
    assert uci.query(
        "SELECT count(sessions_with_view), count(session_conversion_rate), count(sessions_with_cart)"
        " FROM analytics.daily_funnel")[0] == (0, 0, 0)


def test_uci_customer_value_and_cohorts(uci, uci_lines):
    sales = uci_lines.filter(~pl.col("InvoiceNo").str.starts_with("C") & (pl.col("Quantity") > 0))
    c = sales.filter(pl.col("CustomerID") == "12347")
    got = uci.query(
        "SELECT first_purchase, last_purchase, orders, revenue FROM analytics.customer_value "
        "WHERE user_id = '12347'")[0]
    assert got == (c["InvoiceDate"].min(), c["InvoiceDate"].max(), c["InvoiceNo"].n_unique(),
                   (c["UnitPrice"] * c["Quantity"]).sum())
    assert uci.scalar("SELECT count(*) FROM analytics.customer_value") == sales["CustomerID"].n_unique()
    first = sales.group_by("CustomerID").agg(pl.col("InvoiceDate").min().dt.truncate("1mo").alias("m"))
    dec = set(first.filter(pl.col("m") == datetime(2010, 12, 1))["CustomerID"])
    back_in_jan = set(sales.filter(
        (pl.col("InvoiceDate").dt.year() == 2011) & (pl.col("InvoiceDate").dt.month() == 1)
    )["CustomerID"]) & dec
    orders = sales.group_by("CustomerID").agg(pl.col("InvoiceNo").n_unique().alias("n"))
    repeat = orders.filter(pl.col("CustomerID").is_in(list(dec)) & (pl.col("n") > 1)).height
    row = uci.query(
        "SELECT cohort_customers, active_customers, retention_rate, repeat_purchase_rate "
        "FROM analytics.cohort_retention WHERE grain = 'month' AND cohort = '2010-12-01' "
        "AND period = 1")[0]
    assert row[0] == len(dec)
    assert row[1] == len(back_in_jan)
    assert row[2] == pytest.approx(len(back_in_jan) / len(dec))
    assert row[3] == pytest.approx(repeat / len(dec))
    assert uci.scalar("SELECT m1 FROM analytics.cohort_matrix_monthly WHERE cohort = '2010-12-01'") \
        == pytest.approx(len(back_in_jan) / len(dec))
    assert isinstance(got[3], Decimal)
