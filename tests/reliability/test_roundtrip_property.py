"""Round trip, property-based: mostly valid canonical rows, written by Python's csv module with
fields holding commas, quotes, CR and LF, sometimes a BOM, a few non-UTF-8 bytes, an exact
repeat, or no rows at all, read in small blocks. Every valid row must arrive in clean.events
with its exact values; every invalid row must land in quarantine with the reason the README
gives (first match wins). The expectations are computed here, from the generated rows."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conv_assets.sources import SOURCES, read_landed
from tests.reliability.test_adapters_property import clean_in_memory

COLUMNS = ["event_id", "event_time", "event_type", "user_id", "session_id", "product_id",
           "category", "brand", "price", "quantity", "order_id"]
# Letters (some beyond ASCII), digits, punctuation, and the characters CSV must quote.
ALPHABET = "abcXYZ019 -_./é中ü,\"'\n\r"
TEXT = st.text(alphabet=ALPHABET, min_size=1, max_size=10)
FIRST, LAST = date(2000, 1, 1), date(2030, 1, 1)
BASE = datetime(2024, 5, 6, tzinfo=UTC)


@st.composite
def event(draw, i: int) -> dict:
    """One row as written plus the reason it must be quarantined for (None: valid)."""
    seconds = draw(st.integers(0, 3 * 86_400 - 1))
    millis = draw(st.integers(0, 999))
    t = BASE + timedelta(seconds=seconds, milliseconds=millis)
    row = {
        "event_id": f"e{i}",
        "event_time": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z",
        "event_type": draw(st.sampled_from(["view", "cart", "purchase"])),
        "user_id": draw(TEXT), "session_id": "", "product_id": draw(TEXT),
        "category": draw(TEXT), "brand": draw(st.one_of(st.just(""), TEXT)),
        "price": str(Decimal(draw(st.integers(1, 99_999))) / 100),
        "quantity": str(draw(st.integers(1, 5))), "order_id": "",
    }
    if row["event_type"] == "purchase":
        row["order_id"] = draw(TEXT)
    defect = draw(st.sampled_from([None] * 12 + [
        "bad_encoding", "bad_timestamp", "unknown_event_type", "missing_user",
        "missing_product", "bad_price", "bad_quantity"]))
    if defect == "bad_timestamp":
        row["event_time"] = "not a time"
    elif defect == "unknown_event_type":
        row["event_type"] = "teleport"
    elif defect == "missing_user":
        row["user_id"] = " "
    elif defect == "missing_product":
        row["product_id"] = ""
    elif defect == "bad_price":
        row["price"] = "1,99"
    elif defect == "bad_quantity":
        row["quantity"] = "-3"
    # Required fields stay non-blank unless blanking them is the defect, so the reason expected
    # is the one injected (no earlier reason can match).
    for f, blanked in (("user_id", "missing_user"), ("product_id", "missing_product")):
        if defect != blanked and not row[f].strip():
            row[f] = "x"
    return {"row": row, "defect": defect, "time": t.replace(tzinfo=None)}


@st.composite
def files(draw) -> dict:
    n = draw(st.integers(0, 25))
    events = [draw(event(i)) for i in range(n)]
    repeat = draw(st.booleans()) and any(e["defect"] is None for e in events)
    return {"events": events, "bom": draw(st.booleans()), "repeat": repeat,
            "header": draw(st.booleans()) if n == 0 else True}


def encode(spec: dict) -> bytes:
    out = io.BytesIO()
    if spec["bom"]:
        out.write(b"\xef\xbb\xbf")
    if spec["header"]:
        out.write((",".join(COLUMNS) + "\n").encode())
    rows = list(spec["events"])
    if spec["repeat"]:
        rows.append(next(e for e in spec["events"] if e["defect"] is None))
    for e in rows:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([e["row"][c] for c in COLUMNS])
        line = buf.getvalue().encode()
        if e["defect"] == "bad_encoding":
            line = _latin1_in_category(e["row"])
        out.write(line)
    return out.getvalue()


def _latin1_in_category(row: dict) -> bytes:
    """The row with a Latin-1 byte (not UTF-8) in its category field."""
    buf = io.StringIO()
    fields = [row[c] for c in COLUMNS]
    fields[COLUMNS.index("category")] = "\x00MARK\x00"
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue().encode().replace(b"\x00MARK\x00", b"caf\xe9")


def expected_clean(e: dict) -> tuple:
    r = e["row"]

    def text(v: str):
        v = v.strip()
        return v or None

    return (r["event_id"], e["time"], r["event_type"], text(r["user_id"]), text(r["product_id"]),
            text(r["category"]), text(r["brand"]), Decimal(r["price"]), int(r["quantity"]),
            text(r["order_id"]))


def run(data: bytes) -> tuple[list, list]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(data)
        old = os.environ.get("CONV_READ_BLOCK_MB")
        os.environ["CONV_READ_BLOCK_MB"] = "0.001"  # 1 KB blocks: cut between and inside rows
        try:
            frame, _ = read_landed(SOURCES["canonical"], path, "f.csv", FIRST, LAST)
        finally:
            if old is None:
                os.environ.pop("CONV_READ_BLOCK_MB")
            else:
                os.environ["CONV_READ_BLOCK_MB"] = old
    con = clean_in_memory(frame)
    clean = con.execute(
        "SELECT event_id, event_time, event_type, user_id, product_id, category, brand, price, "
        "quantity, order_id FROM clean.events ORDER BY event_id").fetchall()
    quarantine = con.execute("SELECT event_id, reason FROM clean.quarantine").fetchall()
    con.close()
    return clean, quarantine


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_every_valid_row_round_trips_and_every_invalid_row_has_its_reason(spec):
    clean, quarantine = run(encode(spec))
    events = spec["events"]
    valid = [e for e in events if e["defect"] is None]
    assert clean == sorted(expected_clean(e) for e in valid)
    want = sorted([(e["row"]["event_id"], e["defect"]) for e in events if e["defect"]]
                  + ([(next(e for e in valid)["row"]["event_id"], "duplicate")]
                     if spec["repeat"] else []))
    got = sorted((eid.strip() if eid else eid, reason) for eid, reason in quarantine)
    assert got == want


def test_the_generator_produces_valid_rows_and_every_defect():
    """Guard against a strategy that never exercises the round trip (the old test's flaw)."""
    seen_valid, seen = 0, set()

    @settings(max_examples=60, deadline=None, database=None)
    @given(files())
    def collect(spec):
        nonlocal seen_valid
        seen_valid += sum(e["defect"] is None for e in spec["events"])
        seen.update(e["defect"] for e in spec["events"] if e["defect"])

    collect()
    assert seen_valid > 100
    assert seen == {"bad_encoding", "bad_timestamp", "unknown_event_type", "missing_user",
                    "missing_product", "bad_price", "bad_quantity"}
