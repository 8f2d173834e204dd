"""The generic source mapping: any CSV, Parquet or JSONL export to canonical raw rows.

Every built-in adapter is a `Mapping` too, so one engine reads every source. The engine only
renames, maps values and parses timestamps (in polars, over whole columns); typing, validation and
deduplication happen in SQL in the clean layer, where bad rows are quarantined with a reason.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import yaml

CANONICAL_TYPES = ("view", "cart", "remove_from_cart", "begin_checkout", "add_shipping_info",
                   "add_payment_info", "purchase", "return")
# Optional marketing and device context of an event (NULL where the source has none).
CONTEXT = ("utm_source", "utm_medium", "utm_campaign", "referrer", "device", "country", "coupon",
           "discount")
# Canonical names a mapping can fill. event_time, user_id, product_id and event_type are required.
FIELDS = (
    "event_id", "event_time", "event_type", "user_id", "session_id", "product_id",
    "product_name", "category", "brand", "price", "quantity", "order_id", *CONTEXT,
)
REQUIRED = ("event_time", "event_type", "user_id", "product_id")
# Columns of raw.events, in table order.
RAW_COLUMNS = (
    "event_date", "source_file", "source_row", "event_id", "event_time_raw", "event_time",
    "event_type_raw", "event_type", "user_id", "session_id", "product_id", "product_name",
    "category", "brand", "price", "quantity", "order_id", *CONTEXT, "row_error",
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
    # Nested exports: one row per element of this array (a dotted path); see `flatten`.
    explode: str | None = None
    # Event types the mapping does not name are quarantined as `ignored_event_type` (not a
    # defect: GA4's page_view or Segment's page calls) instead of `unknown_event_type`.
    ignore_other_event_types: bool = False
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
        for spec in [*self.columns.values(), *([self.explode] if self.explode else [])]:
            for alt in spec.split(" | "):
                try:
                    _path_steps(alt.strip())
                except MappingError as exc:
                    raise MappingError(f"mapping {self.name}: {exc}") from None
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
               "price_is_line_total", "csv", "explode", "ignore_other_event_types"}
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
        explode=str(doc["explode"]) if doc.get("explode") else None,
        ignore_other_event_types=bool(doc.get("ignore_other_event_types", False)),
    )


# Compressed exports are read as a stream: `.csv.gz`, `.jsonl.zst` and so on.
_COMPRESSION = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
# Files are read in blocks of about this many (uncompressed) bytes, so a file larger than memory
# loads with bounded memory. Env CONV_READ_BLOCK_MB.
DEFAULT_BLOCK_MB = 64


def block_bytes() -> int:
    raw = os.environ.get("CONV_READ_BLOCK_MB") or str(DEFAULT_BLOCK_MB)
    try:
        mb = float(raw)
    except ValueError:
        raise MappingError(f"CONV_READ_BLOCK_MB must be a number, got {raw!r}") from None
    return max(int(mb * (1 << 20)), 1024)


def split_suffix(path: Path) -> tuple[str, str | None]:
    """The data suffix and the compression of a file name: `a.csv.gz` -> (`.csv`, `gzip`)."""
    suffixes = [s.lower() for s in path.suffixes]
    comp = _COMPRESSION.get(suffixes[-1]) if suffixes else None
    if comp is not None:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), comp


def file_format(mapping: Mapping, path: Path) -> str:
    if mapping.format:
        return mapping.format
    fmt = _EXT_FORMAT.get(split_suffix(path)[0])
    if fmt is None:
        raise MappingError(f"cannot tell the format of {path.name}: set `format` in the mapping")
    return fmt


def _open_stream(path: Path) -> BinaryIO:
    comp = split_suffix(path)[1]
    if comp == "gzip":
        return gzip.open(path, "rb")
    if comp == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True)
    return path.open("rb")


def _read_full(stream: BinaryIO, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _record_end(buf: bytes, quote: int) -> int:
    """Index of the last newline in `buf` that ends a record (not inside a quoted field), or -1.

    A newline is outside quotes when an even number of quote characters precede it ("" escapes
    count two), counted from the start of `buf`, which is always the start of a record."""
    q = quote.to_bytes(1, "big")
    total = buf.count(q)
    pos = len(buf)
    while True:
        nl = buf.rfind(b"\n", 0, pos)
        if nl < 0:
            return -1
        if (total - buf.count(q, nl)) % 2 == 0:
            return nl
        pos = nl


def _byte_blocks(path: Path, size: int, record_aware: bool) -> Iterator[bytes]:
    """The (decompressed) file in blocks of about `size` bytes, each ending at a record end."""
    with _open_stream(path) as stream:
        carry = b""
        while True:
            data = _read_full(stream, size)
            buf = carry + data
            if len(data) < size:
                # End of file: the rest goes whole, so a truncated last line stays with the
                # records before it (the CSV reader pads it, and it is quarantined).
                if buf:
                    yield buf
                return
            cut = _record_end(buf, ord('"')) if record_aware else buf.rfind(b"\n")
            # A stray quote can make every later newline look quoted: after four blocks without
            # a record end, cut at the last newline anyway rather than hold the file in memory.
            if cut < 0 and len(buf) > 4 * size:
                cut = buf.rfind(b"\n")
            if cut < 0:
                carry = buf
                continue
            yield buf[: cut + 1]
            carry = buf[cut + 1 :]


_BOM = b"\xef\xbb\xbf"


def _text_frame(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(pl.all().cast(pl.String))


def iter_tables(mapping: Mapping, path: Path, size: int | None = None) -> Iterator[pl.DataFrame]:
    """The file as text-column frames of bounded size. Raises on data that cannot be parsed.

    CSV and JSONL are read in blocks cut at record ends (CSV: outside quotes), gzip and zstd
    decompressed as a stream; Parquet in row batches. A file with no rows yields nothing."""
    size = size or block_bytes()
    fmt = file_format(mapping, path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        rows = max(1, size // max(1, pf.metadata.serialized_size // max(1, pf.metadata.num_rows or 1)))
        for batch in pf.iter_batches(batch_size=min(rows, 1_000_000)):
            if batch.num_rows:
                yield _text_frame(flatten(mapping, pl.from_arrow(batch)))
        return
    if fmt == "jsonl":
        for block in _byte_blocks(path, size, record_aware=False):
            if block.removeprefix(_BOM).strip():
                yield _text_frame(flatten(mapping, pl.read_ndjson(block, infer_schema_length=None)))
        return
    header = b""
    recode = mapping.encoding.lower().replace("-", "") not in ("utf8", "utf8lossy")
    for i, block in enumerate(_byte_blocks(path, size, record_aware=True)):
        if recode:
            block = block.decode(mapping.encoding, errors="replace").encode()
        if i == 0 and mapping.header:
            end = block.find(b"\n")
            header = block if end < 0 else block[: end + 1]
            if not header.endswith(b"\n"):
                header += b"\n"
        elif mapping.header:
            block = header + block
        if not block.removeprefix(_BOM).strip():
            continue  # nothing but a byte-order mark and whitespace
        df = pl.read_csv(
            block,
            has_header=mapping.header,
            new_columns=list(mapping.column_names) if mapping.column_names else None,
            separator=mapping.delimiter,
            infer_schema=False,
            encoding="utf8-lossy",
            truncate_ragged_lines=True,
        )
        if df.height:
            yield _text_frame(df)
        elif i == 0:
            yield _text_frame(df)  # header only: its columns still tell what the file holds


def missing_columns(mapping: Mapping, available: list[str]) -> list[str]:
    needed = [src for canon, src in mapping.columns.items() if canon not in mapping.optional]
    return [c for c in dict.fromkeys(needed) if c not in available]


def check_columns(mapping: Mapping, path: Path) -> None:
    """Fail at once when the mapping names columns the file lacks (used before a run starts)."""
    df = next(iter_tables(mapping, path), pl.DataFrame())
    missing = missing_columns(mapping, df.columns)
    if missing:
        raise MappingError(
            f"{path.name}: mapping {mapping.name} names missing columns {missing}; "
            f"available columns: {df.columns}"
        )


def parse_timestamps(col: pl.Series, mapping: Mapping) -> pl.Series:
    """Text timestamps to naive UTC datetimes (NULL where unparseable).

    Formats are tried in order, each only on the rows no earlier format parsed: the first format
    that parses a row wins, and a file written in one format is parsed once, not once per format.
    """
    if mapping.timestamp_unit:
        num = col.str.strip_chars().cast(pl.Float64, strict=False)
        factor = {"s": 1_000_000, "ms": 1_000, "us": 1}[mapping.timestamp_unit]
        micros = (num * factor).round(0).cast(pl.Int64, strict=False)
        return pl.select(pl.from_epoch(micros, time_unit="us")).to_series().alias(col.name)
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

    def parse(s: pl.Series, fmt: str, is_aware: bool) -> pl.Series:
        if is_aware:
            out = s.str.to_datetime(fmt, strict=False, time_zone="UTC", time_unit="us")
        else:
            out = (s.str.to_datetime(fmt, strict=False, time_unit="us")
                   .dt.replace_time_zone(mapping.timezone, ambiguous="earliest", non_existent="null")
                   .dt.convert_time_zone("UTC"))
        return out.dt.replace_time_zone(None)

    result = pl.Series(col.name, [None] * len(col), dtype=pl.Datetime("us"))
    todo = text.is_not_null()
    for fmt, is_aware in [(f, True) for f in aware] + [(f, False) for f in naive]:
        rows = todo.arg_true()
        if rows.is_empty():
            break
        parsed = parse(text.gather(rows), fmt, is_aware)
        ok = parsed.is_not_null()
        if ok.any():
            result = result.scatter(rows.filter(ok), parsed.filter(ok))
            todo = todo.scatter(rows.filter(ok), False)
    return result


def iter_landed(
    mapping: Mapping, path: Path, rel_name: str, first_day: date, last_day: date
) -> Iterator[tuple[pl.DataFrame, str | None]]:
    """One landed file as raw.events rows, block by block, each with a file-level error or None.

    A row whose time is unparseable or outside [first_day, last_day] keeps the first valid day
    seen in its file as `event_date` (the file's modification day when none was seen yet), so it
    is quarantined in a partition that exists. Data that cannot be parsed becomes a single
    `unreadable_file` row standing for the rest of the file. A file with no rows yields nothing.
    """
    offset = 0
    anchor: date | None = None
    try:
        for df in iter_tables(mapping, path):
            if not df.height:
                continue
            out, error, anchor = _to_raw(mapping, df, path, rel_name, first_day, last_day,
                                         offset, anchor)
            offset += df.height
            yield out, error
    except (pl.exceptions.PolarsError, OSError, EOFError, ValueError, UnicodeError) as exc:
        where = f" after row {offset}" if offset else ""
        msg = f"unreadable file{where}: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
        yield _unreadable(rel_name, path, first_day, last_day, anchor, offset), msg
    except Exception as exc:  # zstandard.ZstdError and other codec errors
        if type(exc).__module__.split(".")[0] != "zstandard":
            raise
        msg = f"unreadable file: {str(exc).splitlines()[0][:200]}"
        yield _unreadable(rel_name, path, first_day, last_day, anchor, offset), msg


def read_landed(
    mapping: Mapping, path: Path, rel_name: str, first_day: date, last_day: date
) -> tuple[pl.DataFrame, str | None]:
    """A whole landed file as raw.events rows plus its first file-level error (small files)."""
    frames, errors = [], []
    for frame, error in iter_landed(mapping, path, rel_name, first_day, last_day):
        frames.append(frame)
        if error:
            errors.append(error)
    frame = pl.concat(frames) if frames else _empty_raw()
    return frame, (errors[0] if errors else None)


def _to_raw(
    mapping: Mapping, df: pl.DataFrame, path: Path, rel_name: str, first_day: date,
    last_day: date, offset: int, anchor: date | None,
) -> tuple[pl.DataFrame, str | None, date | None]:
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
        pl.int_range(offset + 1, offset + n + 1, dtype=pl.Int64).alias("source_row"),
        *[e.alias(k) for k, e in renamed.items()],
        # utf8-lossy decoding leaves U+FFFD where bytes were not UTF-8
        (
            pl.any_horizontal([pl.col(c).str.contains("\ufffd", literal=True) for c in text_cols])
            if text_cols else pl.lit(False)
        ).fill_null(False).alias("_bad_bytes"),
    )
    if mapping.transform is not None:
        out = mapping.transform(out)
    out = out.with_columns(
        pl.col(c).str.strip_chars().replace("", None)
        for c in ("user_id", "product_id", "session_id", "order_id", "event_id", "category",
                  "brand", "product_name", "price", "quantity", "event_type", *CONTEXT)
    )
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
        parse_timestamps(out["event_time"], mapping).alias("event_time"),
        etype.alias("event_type_raw"),
        mapped.alias("event_type"),
        price.alias("price"),
    )
    out = out.with_columns(
        pl.coalesce(
            row_error,
            pl.when(pl.col("_bad_bytes")).then(pl.lit("bad_encoding")),
            pl.when(pl.lit(mapping.ignore_other_event_types) & pl.col("event_type").is_null())
            .then(pl.lit("ignored_event_type")),
            pl.when(
                pl.lit(has_prices) & (pl.col("event_type") == "purchase") & pl.col("price").is_null()
            ).then(pl.lit("bad_price")),
        ).alias("row_error"),
        pl.lit(rel_name).alias("source_file"),
    )
    day = pl.col("event_time").dt.date()
    valid = day.is_between(first_day, last_day)
    if anchor is None:
        anchor = out.select(day.filter(valid).min()).item()
    fallback = anchor if anchor is not None else _mtime_day(path, first_day, last_day)
    out = out.with_columns(pl.when(valid).then(day).otherwise(pl.lit(fallback)).alias("event_date"))
    return out.select(RAW_COLUMNS), error, anchor


def _mtime_day(path: Path, first_day: date, last_day: date) -> date:
    day = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()
    return min(max(day, first_day), last_day)


_RAW_SCHEMA = {c: pl.String for c in RAW_COLUMNS} | {
    "event_date": pl.Date, "source_row": pl.Int64, "event_time": pl.Datetime("us")}


def _empty_raw() -> pl.DataFrame:
    return pl.DataFrame(schema=_RAW_SCHEMA)


def _unreadable(rel_name: str, path: Path, first_day: date, last_day: date,
                anchor: date | None = None, offset: int = 0) -> pl.DataFrame:
    row = {c: None for c in RAW_COLUMNS}
    row |= {"event_date": anchor or _mtime_day(path, first_day, last_day), "source_file": rel_name,
            "source_row": offset, "row_error": "unreadable_file"}
    return pl.DataFrame([row], schema=_RAW_SCHEMA)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_days(
    mapping: Mapping, path: Path, rel_name: str, first_day: date, last_day: date
) -> tuple[date | None, date | None, int]:
    """First and last partition day of a file's rows and its row count, read block by block
    (bounded memory); (None, None, 0) for a file without data rows."""
    lo = hi = None
    rows = 0
    for frame, _ in iter_landed(mapping, path, rel_name, first_day, last_day):
        if frame.height:
            f_lo, f_hi = frame["event_date"].min(), frame["event_date"].max()
            lo = f_lo if lo is None else min(lo, f_lo)
            hi = f_hi if hi is None else max(hi, f_hi)
            rows += frame.height
    return lo, hi, rows


# --- Nested exports (GA4, Segment, any JSON or Parquet with structs and arrays) --------------
# A source column in a mapping may be a path into nested data:
#   `device.category`                          a field of a struct (dotted)
#   `event_params[key=ga_session_id].value.int_value`
#                                              the element of an array of structs whose field
#                                              `key` is `ga_session_id`, then its fields
#   `user_id | user_pseudo_id`                 the first alternative that is not NULL
# and `explode: items` makes one row per element of that array (an event with none keeps one
# row); paths starting `items.` then read the element. A path whose first name is a column of
# the file but whose deeper fields are absent reads NULL (JSON exports leave empty fields out);
# a path whose first name is not a column is a missing column.
_ELEMENT = "__element"
_ELEMENT_INDEX = "__element_index"


def _path_steps(path: str) -> list[tuple[str, tuple[str, str] | None]]:
    """`a.b[k=v].c` -> [("a", None), ("b", ("k", "v")), ("c", None)]."""
    steps = []
    for part in _split_path(path):
        lookup = None
        if part.endswith("]") and "[" in part:
            part, _, cond = part[:-1].partition("[")
            key, eq, value = cond.partition("=")
            if not eq or not key.strip():
                raise MappingError(f"path {path!r}: a lookup is written [field=value]")
            lookup = (key.strip(), value.strip())
        if not part:
            raise MappingError(f"path {path!r} has an empty step")
        steps.append((part, lookup))
    return steps


def _split_path(path: str) -> list[str]:
    """Split on dots outside brackets (a lookup value may hold a dot)."""
    parts, depth, cur = [], 0, ""
    for ch in path:
        if ch == "." and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += (ch == "[") - (ch == "]")
        cur += ch
    parts.append(cur)
    return parts


def _is_path(spec: str) -> bool:
    return "." in spec or "[" in spec or " | " in spec


def _resolve(path: str, schema: pl.Schema, element: str | None) -> pl.Expr | None:
    """A text expression for one path, or None when its first name is not a column."""
    if element and path.startswith(element + "."):
        steps = [(_ELEMENT, None), *_path_steps(path[len(element) + 1:])]
    elif path in schema:
        return _as_text(pl.col(path), schema[path])
    else:
        steps = _path_steps(path)
    first, lookup = steps[0]
    if first not in schema:
        return None
    expr, dtype = pl.col(first), schema[first]
    for i, (name, lookup) in enumerate(steps):
        if i > 0:
            fields = {f.name: f.dtype for f in dtype.fields} if isinstance(dtype, pl.Struct) else {}
            if name not in fields:
                return pl.lit(None, dtype=pl.String)
            expr, dtype = expr.struct.field(name), fields[name]
        if lookup is not None:
            inner = dtype.inner if isinstance(dtype, pl.List) else None
            fields = {f.name for f in inner.fields} if isinstance(inner, pl.Struct) else set()
            if lookup[0] not in fields:
                return pl.lit(None, dtype=pl.String)
            key = pl.element().struct.field(lookup[0]).cast(pl.String)
            expr = expr.list.eval(pl.element().filter(key == lookup[1])).list.first()
            dtype = inner
    return _as_text(expr, dtype)


def _as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype.is_nested():
        return expr.struct.json_encode() if isinstance(dtype, pl.Struct) else pl.lit(None, pl.String)
    return expr.cast(pl.String)


def flatten(mapping: Mapping, df: pl.DataFrame) -> pl.DataFrame:
    """Resolve the mapping's nested paths to flat text columns named by the path, one row per
    element of `explode`; nested columns nobody asked for are dropped."""
    specs = [s for s in mapping.source_columns if s not in df.columns and _is_path(s)]
    if not specs and not mapping.explode and not any(t.is_nested() for t in df.schema.values()):
        return df
    element = mapping.explode
    if element:
        arr = _resolve_array(element, df.schema)
        if arr is not None:
            df = df.with_columns(arr.alias(_ELEMENT))
            df = df.with_columns(
                pl.int_ranges(0, pl.col(_ELEMENT).list.len()).alias(_ELEMENT_INDEX)
            ).explode(_ELEMENT, _ELEMENT_INDEX, empty_as_null=True)
    schema = df.schema
    flat = {}
    for spec in specs:
        alternatives = [e for e in (_resolve(a.strip(), schema, element) for a in spec.split(" | "))
                        if e is not None]
        if alternatives:
            flat[spec] = pl.coalesce(alternatives) if len(alternatives) > 1 else alternatives[0]
    event_id = mapping.columns.get("event_id")
    if event_id is not None and _ELEMENT_INDEX in schema and (event_id in flat or event_id in schema):
        # one event, several elements: each row keeps the event's id plus its element's index
        base = flat.get(event_id, pl.col(event_id).cast(pl.String))
        flat[event_id] = pl.when(pl.col(_ELEMENT_INDEX).is_not_null()).then(
            base + pl.lit("#") + pl.col(_ELEMENT_INDEX).cast(pl.String)).otherwise(base)
    names = [c for c, t in schema.items()
             if not t.is_nested() and c != _ELEMENT_INDEX and c not in flat] + list(flat)
    if not names:
        # nothing flat to keep: one nested column as JSON text keeps the rows (and their count)
        c = next(c for c, t in schema.items() if t.is_nested() and c != _ELEMENT)
        flat[c] = (pl.struct(pl.col(c).alias("v")).struct.json_encode()
                   .str.strip_prefix('{"v":').str.strip_suffix("}"))
        names = [c]
    # with_columns, not select: a path that reads NULL is a literal, which select would make a
    # frame of one row
    return df.with_columns(e.alias(name) for name, e in flat.items()).select(names)


def _resolve_array(path: str, schema: pl.Schema) -> pl.Expr | None:
    steps = _path_steps(path)
    if steps[0][0] not in schema:
        return None
    expr, dtype = pl.col(steps[0][0]), schema[steps[0][0]]
    for name, _ in steps[1:]:
        fields = {f.name: f.dtype for f in dtype.fields} if isinstance(dtype, pl.Struct) else {}
        if name not in fields:
            return None
        expr, dtype = expr.struct.field(name), fields[name]
    if not isinstance(dtype, pl.List):
        return None if dtype == pl.Null else expr.cast(pl.List(pl.String))
    return expr
