"""Built-in source adapters. Each is a `Mapping`; see `mapping.py` for the engine."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from conv_assets.sources.mapping import (
    FIELDS,
    REQUIRED,
    Mapping,
    MappingError,
    file_days,
    iter_landed,
    load_mapping,
    read_landed,
    sha256_file,
)

__all__ = [
    "SOURCES",
    "Mapping",
    "MappingError",
    "file_days",
    "iter_landed",
    "list_landed_files",
    "list_calendar_files",
    "list_spend_files",
    "read_landed",
    "resolve_mapping",
    "sha256_file",
    "unreadable_paths",
]


def _online_retail(df: pl.DataFrame) -> pl.DataFrame:
    # Invoice lines: a C invoice or a negative quantity is a return of abs(quantity) units.
    qty = pl.col("quantity").str.strip_chars()
    is_return = pl.col("order_id").str.starts_with("C") | qty.str.starts_with("-")
    return df.with_columns(
        pl.when(is_return).then(pl.lit("return")).otherwise(pl.lit("purchase")).alias("event_type"),
        qty.str.strip_prefix("-").alias("quantity"),
        # CustomerID arrives as a float ("17850.0")
        pl.col("user_id").str.strip_chars().str.replace(r"\.0+$", "").alias("user_id"),
    )


SOURCES: dict[str, Mapping] = {
    "online_retail": Mapping(
        name="online_retail",
        format="csv",
        columns={"order_id": "InvoiceNo", "product_id": "StockCode", "product_name": "Description",
                 "quantity": "Quantity", "event_time": "InvoiceDate", "price": "UnitPrice",
                 "user_id": "CustomerID", "country": "Country"},
        constants={"event_type": "purchase"},
        timestamp_format="%Y-%m-%d %H:%M:%S",
        timezone="Europe/London",
        transform=_online_retail,
    ),
    "taobao": Mapping(
        name="taobao",
        format="csv",
        header=False,
        column_names=("user_id", "item_id", "category_id", "behavior_type", "timestamp"),
        columns={"user_id": "user_id", "product_id": "item_id", "category": "category_id",
                 "event_type": "behavior_type", "event_time": "timestamp"},
        event_type_values={"pv": "view", "cart": "cart", "fav": "favorite", "buy": "purchase"},
        timestamp_unit="s",
    ),
    "rees46": Mapping(
        name="rees46",
        format="csv",
        columns={"event_time": "event_time", "event_type": "event_type",
                 "product_id": "product_id", "category": "category_code", "brand": "brand",
                 "price": "price", "user_id": "user_id", "session_id": "user_session"},
        timestamp_format="%Y-%m-%d %H:%M:%S%z",
    ),
    "retailrocket": Mapping(
        name="retailrocket",
        format="csv",
        columns={"event_time": "timestamp", "user_id": "visitorid", "event_type": "event",
                 "product_id": "itemid", "order_id": "transactionid"},
        event_type_values={"view": "view", "addtocart": "cart", "transaction": "purchase"},
        timestamp_unit="ms",
    ),
    # Google Analytics 4's BigQuery export (JSONL or Parquet), Google's published schema: one row
    # per element of `items`; the session is the user's `ga_session_id`; the channel is the
    # event's own (collected_traffic_source, else its source/medium/campaign parameters), not
    # traffic_source, which is the user's first acquisition. Other events (page_view, ...) are
    # quarantined as ignored_event_type.
    "ga4": Mapping(
        name="ga4",
        explode="items",
        columns={
            "event_time": "event_timestamp",
            "event_type": "event_name",
            "user_id": "user_pseudo_id | user_id",
            "session_id": "event_params[key=ga_session_id].value.int_value"
                          " | event_params[key=ga_session_id].value.string_value",
            "product_id": "items.item_id",
            "product_name": "items.item_name",
            "category": "items.item_category",
            "brand": "items.item_brand",
            "price": "items.price",
            "quantity": "items.quantity",
            "order_id": "ecommerce.transaction_id",
            "utm_source": "collected_traffic_source.manual_source"
                          " | event_params[key=source].value.string_value",
            "utm_medium": "collected_traffic_source.manual_medium"
                          " | event_params[key=medium].value.string_value",
            "utm_campaign": "collected_traffic_source.manual_campaign_name"
                            " | event_params[key=campaign].value.string_value",
            "referrer": "event_params[key=page_referrer].value.string_value",
            "device": "device.category",
            "country": "geo.country",
            "coupon": "items.coupon | event_params[key=coupon].value.string_value",
        },
        optional=("session_id", "product_name", "category", "brand", "price", "quantity",
                  "order_id", "utm_source", "utm_medium", "utm_campaign", "referrer", "device",
                  "country", "coupon"),
        event_type_values={"view_item": "view", "add_to_cart": "cart",
                           "remove_from_cart": "remove_from_cart",
                           "begin_checkout": "begin_checkout",
                           "add_shipping_info": "add_shipping_info",
                           "add_payment_info": "add_payment_info", "purchase": "purchase",
                           "refund": "return"},
        ignore_other_event_types=True,
        timestamp_unit="us",
    ),
    # Segment / RudderStack e-commerce spec track calls (JSONL): one row per `products[]` element
    # of an order or checkout, else the product in `properties`. Page, identify and other calls
    # are quarantined as ignored_event_type. `context.sessionId` is RudderStack's session.
    "segment": Mapping(
        name="segment",
        explode="properties.products",
        columns={
            "event_id": "messageId",
            "event_time": "timestamp",
            "event_type": "event",
            "user_id": "userId | anonymousId",
            "session_id": "context.sessionId",
            "product_id": "properties.products.product_id | properties.product_id"
                          " | properties.products.sku | properties.sku",
            "product_name": "properties.products.name | properties.name",
            "category": "properties.products.category | properties.category",
            "brand": "properties.products.brand | properties.brand",
            "price": "properties.products.price | properties.price",
            "quantity": "properties.products.quantity | properties.quantity",
            "order_id": "properties.order_id | properties.checkout_id",
            "utm_source": "context.campaign.source",
            "utm_medium": "context.campaign.medium",
            "utm_campaign": "context.campaign.name",
            "referrer": "context.page.referrer",
            "device": "context.device.type",
            "country": "context.location.country",
            "coupon": "properties.products.coupon | properties.coupon",
        },
        optional=("event_id", "session_id", "product_name", "category", "brand", "price",
                  "quantity", "order_id", "utm_source", "utm_medium", "utm_campaign", "referrer",
                  "device", "country", "coupon"),
        event_type_values={"Product Viewed": "view", "Product Added": "cart",
                           "Product Removed": "remove_from_cart",
                           "Checkout Started": "begin_checkout",
                           "Payment Info Entered": "add_payment_info",
                           "Order Completed": "purchase", "Order Refunded": "return"},
        ignore_other_event_types=True,
    ),
    "canonical": Mapping(
        name="canonical",
        columns={f: f for f in FIELDS},
        optional=tuple(f for f in FIELDS if f not in REQUIRED),
    ),
}


def resolve_mapping(source: str | None, mapping_path: str | None, timezone: str | None = None) -> Mapping:
    """The mapping for a named source or a mapping file; one-line errors for unknown ones."""
    if mapping_path:
        mapping = load_mapping(mapping_path)
    else:
        name = source or "canonical"
        if name not in SOURCES:
            raise MappingError(f"unknown source {name!r}; choose one of {', '.join(SOURCES)} "
                               "or pass a mapping file")
        mapping = SOURCES[name]
    return mapping.with_timezone(timezone)


_SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp")
_DATA_SUFFIXES = tuple(
    f"{ext}{comp}" for ext in (".csv", ".tsv", ".txt", ".jsonl", ".ndjson")
    for comp in ("", ".gz", ".gzip", ".zst", ".zstd")
) + (".parquet",)


# Files named marketing_spend* and calendar* are not events: analytics/channel_attribution and
# ml/sales_forecasts read them.
SPEND_PREFIX = "marketing_spend"
CALENDAR_PREFIX = "calendar"


def list_landed_files(landing_dir: str | Path) -> list[Path]:
    """Event files under the landing directory, sorted; hidden and in-progress files, and the
    marketing_spend and calendar files, are skipped."""
    root = Path(landing_dir)
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        name = p.name.lower()
        if name.endswith(_SKIP_SUFFIXES) or not name.endswith(_DATA_SUFFIXES):
            continue
        if name.startswith(SPEND_PREFIX) or (name.startswith(CALENDAR_PREFIX) and name.endswith(".csv")):
            continue
        out.append(p)
    return out


def list_spend_files(landing_dir: str | Path) -> list[Path]:
    """The landed marketing_spend CSV files (date, channel, spend), sorted."""
    return _named(landing_dir, SPEND_PREFIX)


def list_calendar_files(landing_dir: str | Path) -> list[Path]:
    """The landed calendar CSV files (date, kind, optional category), sorted."""
    return _named(landing_dir, CALENDAR_PREFIX)


def _named(landing_dir: str | Path, prefix: str) -> list[Path]:
    root = Path(landing_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob(f"{prefix}*.csv") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def unreadable_paths(root: Path) -> list[str]:
    """Files and directories under `root` this process may not read (hidden ones aside)."""
    bad: list[str] = []
    if not os.access(root, os.R_OK | os.X_OK):
        return [str(root)]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for d in dirnames:
            if not os.access(Path(dirpath, d), os.R_OK | os.X_OK):
                bad.append(str(Path(dirpath, d)))
        for f in filenames:
            if not f.startswith(".") and not os.access(Path(dirpath, f), os.R_OK):
                bad.append(str(Path(dirpath, f)))
    return sorted(bad)
