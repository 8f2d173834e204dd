"""sql/analytics/select_suspicious_sessions.sql on hand-made events, expected values by hand."""

from __future__ import annotations

from datetime import date

import duckdb

from conv_assets.resources import sql_frame

# (user, session, time, type); thresholds in the query below: 6 events a session, 4 a minute.
EVENTS = [
    # s1: 4 views in one calendar minute -> event_burst (4 in 10:00), 5 browsing events in all.
    *[("u1", "s1", f"2024-05-01 10:00:{s:02d}", "view") for s in (1, 15, 30, 59)],
    ("u1", "s1", "2024-05-01 10:01:00", "cart"),
    # s2: 3 views in 10:00 and 3 order lines at the same second: order lines are not browsing,
    # so 3 a minute and 3 in all -> not flagged.
    *[("u2", "s2", f"2024-05-01 10:00:{s:02d}", "view") for s in (1, 2, 3)],
    *[("u2", "s2", "2024-05-01 10:00:04", "purchase") for _ in range(3)],
    # s3: 6 views, one a minute -> huge_session (6 events, at most 1 a minute).
    *[("u3", "s3", f"2024-05-01 11:0{m}:00", "view") for m in range(6)],
    # s4: 3 views at 10:00:50-59 and 3 at 10:01:00-09: 6 in all but at most 3 in one calendar
    # minute -> huge_session only.
    *[("u4", "s4", f"2024-05-01 10:00:5{s}", "view") for s in (0, 5, 9)],
    *[("u4", "s4", f"2024-05-01 10:01:0{s}", "cart") for s in (0, 5, 9)],
    # s5: two sessions of one user in the same minute are not added up: 2 + 2 -> not flagged.
    ("u5", "s5a", "2024-05-01 12:00:01", "view"), ("u5", "s5a", "2024-05-01 12:00:02", "view"),
    ("u5", "s5b", "2024-05-01 12:00:03", "view"), ("u5", "s5b", "2024-05-01 12:00:04", "view"),
    # s6: a burst on the cutoff day is after the cutoff -> not seen.
    *[("u6", "s6", f"2024-05-02 09:00:0{s}", "view") for s in range(5)],
]


def test_bursts_and_huge_sessions_by_hand():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA clean")
    con.execute("CREATE TABLE clean.events (user_id VARCHAR, session_id VARCHAR, "
                "event_time TIMESTAMPTZ, event_date DATE, event_type VARCHAR)")
    con.executemany("INSERT INTO clean.events VALUES (?, ?, CAST(? AS TIMESTAMPTZ), "
                    "CAST(CAST(? AS TIMESTAMP) AS DATE), ?)",
                    [(u, s, t, t, e) for u, s, t, e in EVENTS])
    got = sql_frame(con, "analytics/select_suspicious_sessions", cutoff=date(2024, 5, 2),
                    huge_session=6, burst_per_minute=4)
    rows = sorted(got.select("user_id", "session_id", "events", "max_events_per_minute").rows())
    assert rows == [("u1", "s1", 5, 4), ("u3", "s3", 6, 1), ("u4", "s4", 6, 3)]
    starts = dict(zip(got["session_id"], got["session_start"].dt.strftime("%H:%M:%S"), strict=True))
    assert starts == {"s1": "10:00:01", "s3": "11:00:00", "s4": "10:00:50"}
