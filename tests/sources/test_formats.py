"""Landing formats: compressed CSV and JSONL, Parquet, block-wise reading, empty exports."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import zstandard

from conv_assets.sources import SOURCES, list_landed_files, read_landed
from conv_assets.sources.mapping import iter_tables
from tests.conftest import CANONICAL_HEADER

CANON = SOURCES["canonical"]
FIRST, LAST = date(2000, 1, 1), date(2030, 1, 1)
# Quoted fields holding the delimiter, quotes and newlines, so blocks must cut outside quotes.
ROWS = [
    f'e{i},2024-05-0{6 + i % 2}T10:{i % 60:02d}:00Z,view,u{i % 7},,p{i % 11},'
    f'"cat, ""{i}""\nsecond line",brand,1.50,1,'
    for i in range(400)
]
TEXT = CANONICAL_HEADER + "\n" + "\n".join(ROWS) + "\n"


def _frame(path: Path) -> pl.DataFrame:
    frame, error = read_landed(CANON, path, path.name, FIRST, LAST)
    assert error is None
    return frame.drop("source_file")


@pytest.mark.parametrize("name,write", [
    ("a.csv.gz", lambda p: p.write_bytes(gzip.compress(TEXT.encode()))),
    ("a.csv.zst", lambda p: p.write_bytes(zstandard.ZstdCompressor().compress(TEXT.encode()))),
    ("a.parquet", lambda p: pl.read_csv(TEXT.encode(), infer_schema=False).write_parquet(p)),
    ("a.jsonl.gz", lambda p: p.write_bytes(gzip.compress("".join(
        json.dumps(r) + "\n" for r in pl.read_csv(TEXT.encode(), infer_schema=False).to_dicts()
    ).encode()))),
])
def test_every_format_reads_the_same_rows_as_plain_csv(tmp_path, name, write):
    plain = tmp_path / "a.csv"
    plain.write_text(TEXT)
    other = tmp_path / name
    write(other)
    assert [p.name for p in list_landed_files(tmp_path)] == sorted(["a.csv", name])
    want, got = _frame(plain), _frame(other)
    assert want.height == 400
    assert got.select(want.columns).equals(want)
    assert want["category"][3] == 'cat, "3"\nsecond line'


def test_small_blocks_cut_outside_quotes_and_number_rows_across_blocks(tmp_path):
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(TEXT.encode()))
    blocks = list(iter_tables(CANON, path, size=2048))
    assert len(blocks) > 10  # really read in pieces
    assert max(b.height for b in blocks) < 40  # each piece bounded by the block size
    whole = pl.concat(blocks)
    assert whole.equals(pl.read_csv(TEXT.encode(), infer_schema=False))
    frame, _ = read_landed(CANON, path, "a.csv.gz", FIRST, LAST)
    assert frame["source_row"].to_list() == list(range(1, 401))


def test_truncated_gzip_is_one_unreadable_row(tmp_path):
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(TEXT.encode())[:300])
    frame, error = read_landed(CANON, path, "a.csv.gz", FIRST, LAST)
    assert error.startswith("unreadable file")
    assert frame["row_error"].to_list() == ["unreadable_file"]


@pytest.mark.parametrize("content", ["", CANONICAL_HEADER + "\n"])
def test_empty_exports_are_recorded_and_never_block_other_files(env, content):
    (env.landing / "empty.csv").write_text(content)
    (env.landing / "a.csv").write_text(CANONICAL_HEADER + "\n" + ROWS[0] + "\n")
    env.run("key:raw/events or key:clean/events")
    assert env.query("SELECT path, status, rows FROM ops.ingested_files ORDER BY path") == [
        ("a.csv", "loaded", 1), ("empty.csv", "empty", 0)]
    assert env.scalar("SELECT count(*) FROM clean.events") == 1


def test_a_truncated_last_line_stays_in_the_last_block(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(TEXT + "e999,2024-05-06T10:00")  # cut off mid-row, no newline
    for size in (2048, 1 << 20):
        blocks = list(iter_tables(CANON, path, size=size))
        assert sum(b.height for b in blocks) == 401
    frame, error = read_landed(CANON, path, "t.csv", FIRST, LAST)
    assert error is None and frame.height == 401
