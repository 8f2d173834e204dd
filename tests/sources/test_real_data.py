"""Each built-in adapter on the real samples in ../shared/data, checked against their published facts."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import SHARED

IDENTITY = """
    SELECT count(*) FROM (
        SELECT event_date, count(*) AS n FROM raw.events GROUP BY 1) r
    FULL JOIN (SELECT event_date, count(*) AS n FROM clean.events GROUP BY 1) c USING (event_date)
    FULL JOIN (SELECT event_date, count(*) AS n FROM clean.quarantine GROUP BY 1) q USING (event_date)
    WHERE coalesce(r.n, 0) <> coalesce(c.n, 0) + coalesce(q.n, 0)
"""
# Columns that record when something happened, not what.
CLOCK_COLUMNS = ("loaded_at", "arrived_at", "applied_at", "requested_at")


def checksums_of_every_table(env) -> dict:
    """count and bit_xor(hash) of every table; doubles rounded to 9 significant places, since
    parallel float sums may differ in the last bit (README, Known limits)."""
    out = {}
    for schema, table in env.query("SELECT schema_name, table_name FROM duckdb_tables() "
                                   "WHERE database_name = current_database() ORDER BY 1, 2"):
        cols = [
            f'round("{c}", 9 - CAST(ceil(log10(abs("{c}") + 1)) AS INTEGER))' if t == "DOUBLE"
            else f'"{c}"'
            for c, t in env.query(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = $s "
                "AND table_name = $t AND database_name = current_database() ORDER BY column_index",
                {"s": schema, "t": table})
            if c not in CLOCK_COLUMNS
        ]
        # Names come from DuckDB's own catalog.
        out[f"{schema}.{table}"] = env.query(
            f'SELECT count(*), bit_xor(hash({", ".join(cols)})) FROM "{schema}"."{table}"')[0]
    return out


def test_online_retail_full_year_loads_every_row_once(uci):
    env = uci
    assert env.scalar("SELECT count(*) FROM raw.events") == 541_909
    assert env.scalar("SELECT count(*) FROM ops.ingested_files WHERE status = 'loaded'") == 305
    assert env.scalar(IDENTITY) == 0
    # Facts from shared/data/README.md
    assert env.scalar("SELECT count(DISTINCT product_id) FROM raw.events") == 4_070
    assert env.scalar("SELECT count(DISTINCT order_id) FROM raw.events") == 25_900
    assert env.scalar("SELECT count(*) FROM raw.events WHERE order_id LIKE 'C%'") == 9_288
    assert env.scalar("SELECT count(*) FROM clean.quarantine WHERE reason = 'missing_user'") == 135_080
    assert env.scalar("SELECT count(DISTINCT user_id) FROM clean.events") == 4_372
    assert env.scalar("SELECT count(*) FROM clean.events WHERE dayofweek(event_date) = 6") == 0
    # Country is kept: 38 countries in the files (facts), and per clean row the country the
    # file gives the same invoice line (read here straight from the CSVs).
    assert env.scalar("SELECT count(DISTINCT country) FROM raw.events") == 38
    per_country = dict(env.query(
        "SELECT Country, count(*) FROM read_csv($f, all_varchar = true) "
        "WHERE CustomerID IS NOT NULL GROUP BY 1", {"f": str(SHARED / "online_retail" / "by-day" / "*.csv")}))
    clean = dict(env.query("SELECT country, count(*) FROM clean.events GROUP BY 1"))
    quarantined = dict(env.query("SELECT country, count(*) FROM clean.quarantine "
                                 "WHERE user_id IS NOT NULL GROUP BY 1"))
    assert {c: clean.get(c, 0) + quarantined.get(c, 0) for c in per_country} == per_country
    # Every C invoice is a return, nothing else is.
    assert env.scalar(
        "SELECT count(*) FROM clean.events WHERE (order_id LIKE 'C%') <> (event_type = 'return')"
    ) == 0
    before = checksums_of_every_table(env)
    assert len(before) >= 27
    env.rerun()
    assert checksums_of_every_table(env) == before


def test_taobao_sessions_derived_and_truncated_line_quarantined(taobao):
    env = taobao
    assert env.scalar("SELECT count(*) FROM raw.events") == 84_476
    assert env.query("SELECT reason, source_row FROM clean.quarantine") == [("bad_timestamp", 84_476)]
    counts = dict(env.query("SELECT event_type, count(*) FROM clean.events GROUP BY 1"))
    assert counts == {"view": 75_873 - 1, "cart": 4_497, "favorite": 2_356, "purchase": 1_750}
    assert env.scalar("SELECT count(DISTINCT user_id) FROM clean.events") == 815
    assert env.scalar("SELECT bool_and(session_is_derived) FROM clean.events")
    # Sessions recomputed here for one busy user with a plain 30-minute gap rule.
    user = env.scalar("SELECT user_id FROM clean.events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    times = [r[0] for r in env.query(
        "SELECT event_time FROM clean.events WHERE user_id = $u ORDER BY event_time", {"u": user})]
    expected = 1 + sum(1 for a, b in zip(times, times[1:], strict=False) if b - a > timedelta(minutes=30))
    assert env.scalar(
        "SELECT count(DISTINCT session_id) FROM clean.events WHERE user_id = $u", {"u": user}
    ) == expected
    assert isinstance(times[0], datetime)


def test_rees46_keeps_source_sessions(rees46):
    env = rees46
    assert env.scalar("SELECT count(*) FROM raw.events") == 17_433
    counts = dict(env.query("SELECT event_type, count(*) FROM raw.events GROUP BY 1"))
    assert counts == {"view": 17_054, "cart": 165, "purchase": 214}
    assert env.scalar("SELECT count(DISTINCT user_id) FROM raw.events") == 4_504
    assert env.scalar("SELECT count(DISTINCT session_id) FROM clean.events") == env.scalar(
        "SELECT count(DISTINCT session_id) FROM raw.events")
    assert not env.scalar("SELECT bool_or(session_is_derived) FROM clean.events")
    assert env.scalar(IDENTITY) == 0
    assert env.scalar("SELECT min(event_time) FROM clean.events") == datetime(2019, 10, 1, 0, 0)
