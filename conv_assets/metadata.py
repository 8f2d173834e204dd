"""Materialization metadata shared by every asset: row count, column schema, preview, charts."""

from __future__ import annotations

import base64
import io
from typing import Any

import dagster as dg
import duckdb
import polars as pl

from conv_assets.resources import query_frame


def column_schema(con: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    """Columns with their types and the descriptions kept as COMMENTs in the DDL files."""
    schema, name = table.split(".")
    rows = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE schema_name = $s AND table_name = $t ORDER BY column_index",
        {"s": schema, "t": name},
    ).fetchall()
    return dg.TableSchema(
        columns=[dg.TableColumn(n, t, description=c or None) for n, t, c in rows]
    )


# Columns that identify a person (or their session or order). They never go into metadata:
# Dagster's event log lies outside the warehouse, where `conv-assets forget` cannot reach.
PERSONAL_COLUMNS = ("user_id", "session_id", "order_id", "order_ids")


def markdown_table(df: pl.DataFrame, max_rows: int = 10) -> str:
    """A small markdown table (no extra dependency for `to_markdown`), without personal columns."""
    df = df.drop([c for c in PERSONAL_COLUMNS if c in df.columns])
    if df.is_empty():
        return "_no rows_"
    head = df.head(max_rows)
    cols = head.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in head.iter_rows():
        cells = ["" if v is None else str(v).replace("|", "\\|")[:60] for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# `table` and `column` below are always our own constant names, never input.
def window_preview(
    con: duckdb.DuckDBPyConnection, table: str, start: Any, end: Any, column: str = "event_date"
) -> pl.DataFrame:
    """First rows of a partitioned table within [start, end)."""
    return query_frame(
        con,
        f"SELECT * FROM {table} WHERE {column} >= $start AND {column} < $end LIMIT 10",
        {"start": start, "end": end},
    )


def window_count(
    con: duckdb.DuckDBPyConnection, table: str, start: Any, end: Any, column: str = "event_date"
) -> int:
    return con.execute(
        f"SELECT count(*) FROM {table} WHERE {column} >= $start AND {column} < $end",
        {"start": start, "end": end},
    ).fetchall()[0][0]


def table_metadata(
    con: duckdb.DuckDBPyConnection, table: str, rows: int, preview: pl.DataFrame
) -> dict[str, Any]:
    return {
        "dagster/row_count": dg.MetadataValue.int(int(rows)),
        "dagster/column_schema": column_schema(con, table),
        "dagster/table_name": dg.MetadataValue.text(table),
        "preview": dg.MetadataValue.md(markdown_table(preview)),
    }


def png_markdown(fig: Any, title: str) -> dg.MetadataValue:
    """A matplotlib figure as an inline PNG in markdown metadata."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{data})")
