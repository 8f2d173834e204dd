"""The generic source mapping: any CSV, Parquet or JSONL export to canonical raw rows.

Every built-in adapter is a `Mapping` too, so one engine reads every source. The engine only
renames, maps values and parses timestamps (in polars, over whole columns); typing, validation and
deduplication happen in SQL in the clean layer, where bad rows are quarantined with a reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import yaml

CANONICAL_TYPES = ("view", "cart", "remove_from_cart", "purchase", "return")
# Canonical names a mapping can fill. event_time, user_id, product_id and event_type are required.
FIELDS = (
    "event_id", "event_time", "event_type", "user_id", "session_id", "product_id",
    "product_name", "category", "brand", "price", "quantity", "order_id",
)
REQUIRED = ("event_time", "event_type", "user_id", "product_id")
# Columns of raw.events, in table order.
RAW_COLUMNS = (
    "event_date", "source_file", "source_row", "event_id", "event_time_raw", "event_time",
    "event_type_raw", "event_type", "user_id", "session_id", "product_id", "product_name",
    "category", "brand", "price", "quantity", "order_id", "row_error",
)
FORMATS = ("csv", "parquet", "jsonl")
_EXT_FORMAT = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet",
               ".jsonl": "jsonl", ".ndjson": "jsonl"}
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z")
_NAIVE_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                  "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")


class MappingError(ValueError):
    """A mapping that cannot work: unknown key, missing column, bad timestamp settings."""


@dataclass(frozen=True)
class Mapping:
    """How one source's files become canonical rows. See README, "Mapping files"."""

    name: str
    columns: dict[str, str]
    format: str | None = None
    constants: dict[str, str] = field(default_factory=dict)
    event_type_values: dict[str, str] = field(default_factory=dict)
    timestamp_format: str | None = None
    timestamp_unit: str | None = None
    timezone: str = "UTC"
    price_is_line_total: bool = False
    delimiter: str = ","
    header: bool = True
    column_names: tuple[str, ...] | None = None
    encoding: str = "utf-8"
    # Canonical fields whose column may be absent from a file (read as NULL).
    optional: tuple[str, ...] = ()
    # Built-in adapters only: a polars step on the renamed frame, for rules a mapping can't say.
    transform: Callable[[pl.DataFrame], pl.DataFrame] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.columns) - set(FIELDS)
        unknown |= set(self.constants) - set(FIELDS)
        if unknown:
            raise MappingError(
                f"mapping {self.name}: unknown canonical fields {sorted(unknown)}; "
                f"known: {', '.join(FIELDS)}"
            )
        missing = [f for f in REQUIRED if f not in self.columns and f not in self.constants]
        if missing:
            raise MappingError(f"mapping {self.name}: required fields not mapped: {missing}")
        if self.format is not None and self.format not in FORMATS:
            raise MappingError(f"mapping {self.name}: format must be one of {FORMATS}")
        if self.timestamp_unit not in (None, "s", "ms", "us"):
            raise MappingError(f"mapping {self.name}: timestamp unit must be s, ms or us")
        try:
            _zone(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(f"mapping {self.name}: unknown timezone {self.timezone!r}") from None
        bad = {v for v in self.event_type_values.values() if not v or not v.replace("_", "").isalnum()}
        if bad:
            raise MappingError(f"mapping {self.name}: event types must be simple names: {sorted(bad)}")

    @property
    def source_columns(self) -> list[str]:
        return list(dict.fromkeys(self.columns.values()))

    def with_timezone(self, tz: str | None) -> Mapping:
        if not tz:
            return self
        return Mapping(**{**self.__dict__, "timezone": tz})


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def load_mapping(path: str | Path) -> Mapping:
    """Read a YAML mapping file; errors name the file and the problem in one line."""
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise MappingError(f"cannot read mapping file {p}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping file {p} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise MappingError(f"mapping file {p} must hold a YAML mapping of keys")
    allowed = {"format", "columns", "constants", "event_type_values", "timestamp",
               "price_is_line_total", "csv"}
    extra = set(doc) - allowed
    if extra:
        raise MappingError(f"mapping file {p}: unknown keys {sorted(extra)}; allowed: {sorted(allowed)}")
    ts = doc.get("timestamp") or {}
    csv = doc.get("csv") or {}
    if not isinstance(ts, dict) or not isinstance(csv, dict):
        raise MappingError(f"mapping file {p}: timestamp and csv must be mappings of keys")

    def strmap(key: str) -> dict[str, str]:
        val = doc.get(key) or {}
        if not isinstance(val, dict):
            raise MappingError(f"mapping file {p}: {key} must map names to values")
        return {str(k): str(v) for k, v in val.items()}

    names = csv.get("column_names")
    return Mapping(
        name=p.name,
        format=doc.get("format"),
        columns=strmap("columns"),
        constants=strmap("constants"),
        event_type_values=strmap("event_type_values"),
        timestamp_format=ts.get("format"),
        timestamp_unit=ts.get("unit"),
        timezone=ts.get("timezone") or "UTC",
        price_is_line_total=bool(doc.get("price_is_line_total", False)),
        delimiter=str(csv.get("delimiter", ",")),
        header=bool(csv.get("header", True)),
        column_names=tuple(str(n) for n in names) if names else None,
        encoding=str(csv.get("encoding", "utf-8")),
    )


def file_format(mapping: Mapping, path: Path) -> str:
    if mapping.format:
        return mapping.format
    fmt = _EXT_FORMAT.get(path.suffix.lower())
    if fmt is None:
        raise MappingError(f"cannot tell the format of {path.name}: set `format` in the mapping")
    return fmt


def read_table(mapping: Mapping, path: Path) -> pl.DataFrame:
    """Read a file as text columns. Raises on files that cannot be parsed at all."""
    fmt = file_format(mapping, path)
    if fmt == "parquet":
        df = pl.read_parquet(path)
    elif fmt == "jsonl":
        df = pl.read_ndjson(path, infer_schema_length=None)
    else:
        source: Path | bytes = path
        encoding = "utf8-lossy"
        if mapping.encoding.lower().replace("-", "") not in ("utf8", "utf8lossy"):
            source = path.read_bytes().decode(mapping.encoding, errors="replace").encode()
        df = pl.read_csv(
            source,
            has_header=mapping.header,
            new_columns=list(mapping.column_names) if mapping.column_names else None,
            separator=mapping.delimiter,
            infer_schema=False,
            encoding=encoding,
            truncate_ragged_lines=True,
        )
    return df.select(pl.all().cast(pl.String))


def missing_columns(mapping: Mapping, available: list[str]) -> list[str]:
    needed = [src for canon, src in mapping.columns.items() if canon not in mapping.optional]
    return [c for c in dict.fromkeys(needed) if c not in available]


def check_columns(mapping: Mapping, path: Path) -> None:
    """Fail at once when the mapping names columns the file lacks (used before a run starts)."""
    df = read_table(mapping, path).head(0)
    missing = missing_columns(mapping, df.columns)
    if missing:
        raise MappingError(
            f"{path.name}: mapping {mapping.name} names missing columns {missing}; "
            f"available columns: {df.columns}"
        )


def parse_timestamps(col: pl.Expr, mapping: Mapping) -> pl.Expr:
    """Text timestamps to naive UTC datetimes (NULL where unparseable)."""
    if mapping.timestamp_unit:
        num = col.str.strip_chars().cast(pl.Float64, strict=False)
        factor = {"s": 1_000_000, "ms": 1_000, "us": 1}[mapping.timestamp_unit]
        micros = (num * factor).round(0).cast(pl.Int64, strict=False)
        return pl.from_epoch(micros, time_unit="us")
    text = (
        col.str.strip_chars()
        .str.replace(r"\s*UTC$", "+00:00")
        .str.replace(r"Z$", "+00:00")
    )
    if mapping.timestamp_format:
        fmts: tuple[str, ...] = (mapping.timestamp_format,)
        aware = fmts if "%z" in mapping.timestamp_format else ()
        naive = () if aware else fmts
    else:
        aware, naive = _AWARE_FORMATS, _NAIVE_FORMATS
    parsed: list[pl.Expr] = [
        text.str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us") for f in aware
    ]
    parsed += [
        text.str.to_datetime(f, strict=False, time_unit="us")
        .dt.replace_time_zone(mapping.timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        for f in naive
    ]
    return pl.coalesce(parsed).dt.replace_time_zone(None)


def read_landed(
    mapping: Mapping, path: Path, rel_name: str, first_day: date, last_day: date
) -> tuple[pl.DataFrame, str | None]:
    """One landed file as raw.events rows, plus a file-level error message (or None).

    A row whose time is unparseable or outside [first_day, last_day] keeps the first valid day of
    its file as `event_date`, so it is quarantined in a partition that exists; a file that cannot
    be parsed at all becomes a single `unreadable_file` row on the day it was last modified.
    """
    try:
        df = read_table(mapping, path)
    except (pl.exceptions.PolarsError, OSError, ValueError, UnicodeError) as exc:
        msg = f"unreadable file: {str(exc).splitlines()[0][:200]}"
        return _unreadable(rel_name, path, first_day, last_day), msg
    n = df.height
    error: str | None = None
    row_error = pl.lit(None, dtype=pl.String)
    missing = missing_columns(mapping, df.columns)
    if missing:
        error = f"missing columns {missing}; available columns: {df.columns}"
        row_error = pl.lit("missing_column")
    renamed = {}
    for canon in FIELDS:
        src = mapping.columns.get(canon)
        if src is not None and src in df.columns:
            renamed[canon] = pl.col(src)
        elif canon in mapping.constants:
            renamed[canon] = pl.lit(mapping.constants[canon], dtype=pl.String)
        else:
            renamed[canon] = pl.lit(None, dtype=pl.String)
    text_cols = list(df.columns)
    out = df.select(
        pl.int_range(1, n + 1, dtype=pl.Int64).alias("source_row"),
        *[e.alias(k) for k, e in renamed.items()],
        # utf8-lossy decoding leaves U+FFFD where bytes were not UTF-8
        (
            pl.any_horizontal([pl.col(c).str.contains("\ufffd", literal=True) for c in text_cols])
            if text_cols else pl.lit(False)
        ).fill_null(False).alias("_bad_bytes"),
    )
    if mapping.transform is not None:
        out = mapping.transform(out)
    for col in ("user_id", "product_id", "session_id", "order_id", "event_id", "category",
                "brand", "product_name", "price", "quantity", "event_type"):
        out = out.with_columns(pl.col(col).str.strip_chars().replace("", None))
    etype = pl.col("event_type")
    if mapping.event_type_values:
        values = mapping.event_type_values
        mapped = etype.replace_strict(values, default=None, return_dtype=pl.String)
        canonical = pl.when(etype.is_in(list(CANONICAL_TYPES))).then(etype)
        mapped = pl.coalesce(mapped, canonical)
    else:
        mapped = pl.when(etype.str.to_lowercase().is_in(list(CANONICAL_TYPES))).then(
            etype.str.to_lowercase()
        )
    price = pl.col("price")
    if mapping.price_is_line_total:
        total = price.cast(pl.Float64, strict=False)
        qty = pl.col("quantity").fill_null("1").cast(pl.Float64, strict=False)
        price = (
            pl.when(total.is_not_null() & qty.is_not_null() & (qty != 0))
            .then((total / qty).round(4).cast(pl.String))
            .otherwise(price)
        )
    has_prices = "price" in mapping.columns or "price" in mapping.constants
    out = out.with_columns(
        pl.col("event_time").alias("event_time_raw"),
        parse_timestamps(pl.col("event_time"), mapping).alias("event_time"),
        etype.alias("event_type_raw"),
        mapped.alias("event_type"),
        price.alias("price"),
    )
    out = out.with_columns(
        pl.coalesce(
            row_error,
            pl.when(pl.col("_bad_bytes")).then(pl.lit("bad_encoding")),
            pl.when(
                pl.lit(has_prices) & (pl.col("event_type") == "purchase") & pl.col("price").is_null()
            ).then(pl.lit("bad_price")),
        ).alias("row_error"),
        pl.lit(rel_name).alias("source_file"),
    )
    day = pl.col("event_time").dt.date()
    valid = day.is_between(first_day, last_day)
    anchor = out.select(day.filter(valid).min()).item()
    if anchor is None:
        anchor = _mtime_day(path, first_day, last_day)
    out = out.with_columns(pl.when(valid).then(day).otherwise(pl.lit(anchor)).alias("event_date"))
    return out.select(RAW_COLUMNS), error


def _mtime_day(path: Path, first_day: date, last_day: date) -> date:
    day = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()
    return min(max(day, first_day), last_day)


def _unreadable(rel_name: str, path: Path, first_day: date, last_day: date) -> pl.DataFrame:
    row = {c: None for c in RAW_COLUMNS}
    row |= {"event_date": _mtime_day(path, first_day, last_day), "source_file": rel_name,
            "source_row": 0, "row_error": "unreadable_file"}
    schema = {c: pl.String for c in RAW_COLUMNS}
    schema |= {"event_date": pl.Date, "source_row": pl.Int64, "event_time": pl.Datetime("us")}
    return pl.DataFrame([row], schema=schema)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
