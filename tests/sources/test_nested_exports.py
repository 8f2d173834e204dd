"""The ga4 and segment adapters, and nested paths in mapping files, on files written to the
published schemas (Google's GA4 BigQuery export; Segment's e-commerce spec). Expected rows are
counted here from the records themselves, in plain Python."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conv_assets.sources import MappingError
from conv_assets.sources.mapping import load_mapping

START = datetime(2026, 11, 2, 8, tzinfo=UTC)
GA4_TYPES = {"view_item": "view", "add_to_cart": "cart", "remove_from_cart": "remove_from_cart",
             "begin_checkout": "begin_checkout", "add_shipping_info": "add_shipping_info",
             "add_payment_info": "add_payment_info", "purchase": "purchase", "refund": "return"}
SELECT = "key:raw/events or key:clean/events or key:analytics/sessions"


def _param(key, string=None, integer=None):
    return {"key": key, "value": {"string_value": string, "int_value": integer,
                                  "float_value": None, "double_value": None}}


def ga4_records(seed: int = 7, users: int = 12) -> list[dict]:
    """GA4 export rows: sessions of page_view, view_item, add_to_cart, begin_checkout and
    purchase (several items), a refund, over three days. Some rows carry
    collected_traffic_source, some only source/medium event parameters, some neither."""
    rng = random.Random(seed)
    out = []
    for u in range(users):
        pseudo = f"{1000 + u}.{1700000000 + u}"
        for s in range(rng.randint(1, 3)):
            t = START + timedelta(days=rng.randint(0, 2), minutes=rng.randint(0, 600))
            sid = 1700000000 + u * 10 + s
            channel = rng.choice([("google", "cpc", "brand"), ("newsletter", "email", "nov"), None])
            # distinct items: an identical line twice is a duplicate (README, Reliability)
            basket = [{"item_id": f"SKU{k}", "item_name": "thing",
                       "item_category": rng.choice(["tea", "cups"]), "item_brand": "house",
                       "price": rng.choice([2.5, 4.0, 12.0]), "quantity": rng.randint(1, 3)}
                      for k in rng.sample(range(1, 10), rng.randint(1, 3))]
            steps = ["page_view", "session_start", "view_item", "add_to_cart", "begin_checkout"]
            if rng.random() < 0.6:
                steps += ["add_shipping_info", "add_payment_info", "purchase"]
            for i, name in enumerate(steps):
                params = [_param("ga_session_id", integer=sid),
                          _param("page_location", string="https://shop.example/p")]
                row = {"event_date": t.strftime("%Y%m%d"),
                       "event_timestamp": int((t + timedelta(seconds=40 * i)).timestamp() * 1e6),
                       "event_name": name, "user_pseudo_id": pseudo,
                       "user_id": f"cust{u}" if name == "purchase" else None,
                       "device": {"category": rng.choice(["mobile", "desktop"]),
                                  "operating_system": "Android"},
                       "geo": {"country": rng.choice(["Germany", "France"]), "city": "x"},
                       "traffic_source": {"name": "(direct)", "medium": "(none)", "source": "(direct)"},
                       "items": []}
                if channel and name == "page_view":
                    params += [_param("source", channel[0]), _param("medium", channel[1]),
                               _param("campaign", channel[2])]
                if channel and rng.random() < 0.5:
                    row["collected_traffic_source"] = {"manual_source": channel[0],
                                                       "manual_medium": channel[1],
                                                       "manual_campaign_name": channel[2]}
                if name in ("view_item", "add_to_cart"):
                    row["items"] = basket[:1]
                elif name in GA4_TYPES:
                    row["items"] = basket
                if name == "purchase":
                    row["ecommerce"] = {"transaction_id": f"T{u}-{s}",
                                        "purchase_revenue": sum(b["price"] * b["quantity"] for b in basket)}
                    params.append(_param("coupon", "WELCOME"))
                row["event_params"] = params
                out.append(row)
    # a refund of the first order, a day later
    first = next(r for r in out if r["event_name"] == "purchase")
    out.append({**first, "event_name": "refund",
                "event_timestamp": first["event_timestamp"] + 86_400_000_000})
    return out


def ga4_expected(records: list[dict]) -> dict:
    rows = Counter()
    ignored = 0
    revenue = 0.0
    sessions = set()
    for r in records:
        if r["event_name"] not in GA4_TYPES:
            ignored += 1
            continue
        kind = GA4_TYPES[r["event_name"]]
        rows[kind] += len(r["items"])
        sid = next(p["value"]["int_value"] for p in r["event_params"] if p["key"] == "ga_session_id")
        sessions.add((r["user_pseudo_id"], str(sid)))
        if kind == "purchase":
            revenue += sum(i["price"] * i["quantity"] for i in r["items"])
    return {"rows": dict(rows), "ignored": ignored, "revenue": revenue, "sessions": len(sessions)}


def _bigquery_json(row: dict) -> str:
    """BigQuery's JSON export writes INT64 as strings."""
    def conv(v):
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v
    return json.dumps(conv(row))


def _check_ga4(env, records):
    want = ga4_expected(records)
    got = dict(env.query("SELECT event_type, count(*) FROM clean.events GROUP BY 1"))
    assert got == want["rows"]
    assert env.query("SELECT reason, count(*) FROM clean.quarantine GROUP BY 1") == [
        ("ignored_event_type", want["ignored"])]
    revenue = env.scalar("SELECT sum(price * quantity) FROM clean.events WHERE event_type = 'purchase'")
    assert float(revenue) == pytest.approx(want["revenue"])
    assert env.scalar("SELECT count(*) FROM analytics.sessions") == want["sessions"]
    # every session id is the user's ga_session_id, not a derived one
    assert env.scalar("SELECT count(*) FROM clean.events WHERE session_is_derived") == 0


def test_ga4_jsonl_export_one_row_per_item(env):
    records = ga4_records()
    with (env.landing / "events_20261102.jsonl").open("w") as fh:
        fh.writelines(_bigquery_json(r) + "\n" for r in records)
    # page_view and session_start are a third of the rows; ignored, they are no defect, so a
    # strict quarantine threshold still passes (the blocking check would stop the run)
    env.set(CONV_SOURCE="ga4", CONV_MAX_QUARANTINE_SHARE="0.05")
    env.run(SELECT)
    _check_ga4(env, records)
    # the order's fields, per item: transaction id, coupon from the event parameters, the
    # event's own channel (collected_traffic_source, else its parameters), device and country
    first = next(r for r in records if r["event_name"] == "purchase")
    items = env.query(
        "SELECT product_id, price, quantity, order_id, coupon, device, country, utm_source "
        "FROM clean.events WHERE event_type = 'purchase' AND order_id = $o ORDER BY product_id",
        {"o": first["ecommerce"]["transaction_id"]})
    source = (first.get("collected_traffic_source") or {}).get("manual_source")
    assert items == sorted(
        (i["item_id"], pytest.approx(i["price"]), i["quantity"], first["ecommerce"]["transaction_id"],
         "WELCOME", first["device"]["category"], first["geo"]["country"], source)
        for i in first["items"])
    # page_view parameters give the landing page's channel; traffic_source (first acquisition)
    # is never used as the event's channel
    assert env.scalar("SELECT count(*) FROM raw.events WHERE utm_source = '(direct)'") == 0
    pv = [r for r in records if r["event_name"] == "page_view"
          and any(p["key"] == "source" for p in r["event_params"])]
    assert env.scalar("SELECT count(*) FROM raw.events WHERE event_type_raw = 'page_view' "
                      "AND utm_source IS NOT NULL") == len(pv)


GA4_PARQUET_SCHEMA = pa.schema([
    ("event_date", pa.string()), ("event_timestamp", pa.int64()), ("event_name", pa.string()),
    ("event_params", pa.list_(pa.struct([
        ("key", pa.string()),
        ("value", pa.struct([("string_value", pa.string()), ("int_value", pa.int64()),
                             ("float_value", pa.float64()), ("double_value", pa.float64())]))]))),
    ("user_id", pa.string()), ("user_pseudo_id", pa.string()),
    ("device", pa.struct([("category", pa.string()), ("operating_system", pa.string())])),
    ("geo", pa.struct([("country", pa.string()), ("city", pa.string())])),
    ("traffic_source", pa.struct([("name", pa.string()), ("medium", pa.string()), ("source", pa.string())])),
    ("collected_traffic_source", pa.struct([("manual_source", pa.string()), ("manual_medium", pa.string()),
                                            ("manual_campaign_name", pa.string())])),
    ("ecommerce", pa.struct([("transaction_id", pa.string()), ("purchase_revenue", pa.float64())])),
    ("items", pa.list_(pa.struct([
        ("item_id", pa.string()), ("item_name", pa.string()), ("item_brand", pa.string()),
        ("item_category", pa.string()), ("price", pa.float64()), ("quantity", pa.int64()),
        ("coupon", pa.string())]))),
])


def test_ga4_parquet_export_reads_the_same_rows(env):
    records = ga4_records(seed=11)
    pq.write_table(pa.Table.from_pylist(records, schema=GA4_PARQUET_SCHEMA),
                   env.landing / "events_20261102.parquet")
    env.set(CONV_SOURCE="ga4")
    env.run(SELECT)
    _check_ga4(env, records)


SEGMENT_TYPES = {"Product Viewed": "view", "Product Added": "cart", "Product Removed": "remove_from_cart",
                 "Checkout Started": "begin_checkout", "Payment Info Entered": "add_payment_info",
                 "Order Completed": "purchase", "Order Refunded": "return"}


def segment_records(seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    out = []
    n = 0

    def call(kind, user, t, **kw):
        nonlocal n
        n += 1
        base = {"type": kind, "messageId": f"m{n}", "anonymousId": f"anon{user}",
                "userId": f"user{user}" if user % 2 else None,
                "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "context": {"campaign": {"source": "facebook", "medium": "social", "name": "w47"},
                            "page": {"referrer": "https://facebook.com/"},
                            "device": {"type": "ios"}, "location": {"country": "Spain"}}}
        return base | kw

    for u in range(10):
        t = START + timedelta(days=u % 3, hours=u)
        out.append(call("page", u, t, name="Home", properties={"path": "/"}))
        if u == 0:
            out.append(call("identify", u, t, traits={"email": "a@b.c"}))
        products = [{"product_id": f"P{k}", "sku": "s", "name": "n",
                     "category": "shoes", "brand": "b", "price": rng.choice([20, 35.5]),
                     "quantity": rng.randint(1, 2)} for k in rng.sample(range(1, 7), rng.randint(1, 3))]
        for i, p in enumerate(products):
            out.append(call("track", u, t + timedelta(minutes=i), event="Product Viewed", properties=p))
            out.append(call("track", u, t + timedelta(minutes=i, seconds=20), event="Product Added",
                            properties=p | {"cart_id": "c"}))
        out.append(call("track", u, t + timedelta(minutes=5), event="Checkout Started",
                        properties={"order_id": f"O{u}", "products": products}))
        if u % 3:
            out.append(call("track", u, t + timedelta(minutes=8), event="Order Completed",
                            properties={"order_id": f"O{u}", "coupon": "SPRING", "discount": 5,
                                        "revenue": 1, "products": products}))
    # a message delivered twice (at-least-once delivery): kept once
    out.append(out[-1])
    return out


def test_segment_track_calls_one_row_per_product(env):
    records = segment_records()
    with (env.landing / "segment.jsonl").open("w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    env.set(CONV_SOURCE="segment")
    env.run(SELECT)
    rows, ignored, duplicates, seen = Counter(), 0, 0, set()
    for r in records:
        kind = SEGMENT_TYPES.get(r.get("event"))
        if kind is None:
            ignored += 1
            continue
        n = len(r["properties"].get("products") or [None])
        if r["messageId"] in seen:
            duplicates += n
            continue
        seen.add(r["messageId"])
        rows[kind] += n
    assert dict(env.query("SELECT event_type, count(*) FROM clean.events GROUP BY 1")) == dict(rows)
    assert dict(env.query("SELECT reason, count(*) FROM clean.quarantine GROUP BY 1")) == {
        "ignored_event_type": ignored, "duplicate": duplicates}
    # logged-in users by userId, the others by anonymousId; context fills the marketing columns
    assert env.query("SELECT DISTINCT user_id FROM clean.events WHERE user_id LIKE 'anon%' "
                     "ORDER BY 1") == [(f"anon{u}",) for u in range(0, 10, 2)]
    assert env.query("SELECT DISTINCT utm_source, utm_medium, utm_campaign, referrer, device, "
                     "country FROM clean.events") == [
        ("facebook", "social", "w47", "https://facebook.com/", "ios", "Spain")]
    orders = [r for r in records[:-1] if r.get("event") == "Order Completed"]
    assert env.scalar("SELECT count(DISTINCT order_id) FROM clean.events "
                      "WHERE event_type = 'purchase'") == len(orders)
    assert env.scalar("SELECT count(*) FROM clean.events WHERE event_type = 'purchase' "
                      "AND coupon = 'SPRING'") == sum(len(r["properties"]["products"]) for r in orders)


NESTED_MAPPING = """
format: jsonl
explode: order.lines
columns:
  event_time: meta.at
  event_type: meta.kind
  user_id: who.id | who.device
  product_id: order.lines.sku
  quantity: order.lines.n
  price: order.lines.unit
  order_id: order.ref
  country: attrs[name=country].val
"""


def test_a_mapping_file_reads_nested_fields_without_code(env, tmp_path):
    mapping = tmp_path / "nested.yaml"
    mapping.write_text(NESTED_MAPPING)
    rows = [
        {"meta": {"at": "2026-11-02T10:00:00Z", "kind": "purchase"}, "who": {"id": "a"},
         "order": {"ref": "R1", "lines": [{"sku": "X", "n": 2, "unit": 3.5}, {"sku": "Y", "n": 1, "unit": 1}]},
         "attrs": [{"name": "country", "val": "Italy"}, {"name": "lang", "val": "it"}]},
        {"meta": {"at": "2026-11-02T11:00:00Z", "kind": "purchase"}, "who": {"device": "d9"},
         "order": {"ref": "R2", "lines": [{"sku": "X", "n": 1, "unit": 3.5}]}, "attrs": []},
        # an order without lines keeps one row, quarantined: a purchase without a price (the
        # first reason that applies; it has no product either)
        {"meta": {"at": "2026-11-02T12:00:00Z", "kind": "purchase"}, "who": {"id": "b"},
         "order": {"ref": "R3", "lines": []}},
    ]
    with (env.landing / "orders.jsonl").open("w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    env.set(CONV_MAPPING=str(mapping))
    env.run(SELECT)
    assert env.query("SELECT user_id, product_id, quantity, price, order_id, country FROM clean.events "
                     "ORDER BY order_id, product_id") == [
        ("a", "X", 2, 3.5, "R1", "Italy"), ("a", "Y", 1, 1, "R1", "Italy"),
        ("d9", "X", 1, 3.5, "R2", None)]
    assert env.query("SELECT reason, order_id FROM clean.quarantine") == [("bad_price", "R3")]


@pytest.mark.parametrize("spec, message", [
    ("a[key]", "a lookup is written [field=value]"),
    ("a..b", "empty step"),
])
def test_malformed_paths_are_one_line_errors(tmp_path, spec, message):
    f = tmp_path / "m.yaml"
    f.write_text(f"columns:\n  event_time: t\n  event_type: k\n  user_id: u\n  product_id: '{spec}'\n")
    with pytest.raises(MappingError, match=re.escape(message)):
        load_mapping(f)
