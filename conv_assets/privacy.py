"""Pseudonymisation of user ids and the erasure list (right to be forgotten)."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import polars as pl

KEY_VAR = "CONV_PSEUDONYM_KEY"


def pseudonym_key() -> bytes | None:
    """The HMAC key from the environment; it is never stored in the warehouse or logged."""
    key = os.environ.get(KEY_VAR)
    return key.encode() if key else None


def pseudonym(raw_id: str, key: bytes) -> str:
    """HMAC-SHA256 of the raw id: the same id always maps to the same pseudonym."""
    return hmac.new(key, raw_id.encode(), hashlib.sha256).hexdigest()[:32]


def pseudonymise(frame: pl.DataFrame, key: bytes | None, column: str = "user_id") -> pl.DataFrame:
    """Replace `column` by its pseudonym (each distinct id hashed once, no per-row loop)."""
    if key is None or frame.is_empty():
        return frame
    ids = frame[column].drop_nulls().unique().to_list()
    mapping = {i: pseudonym(i, key) for i in ids}
    return frame.with_columns(pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String))


def as_stored(user_ids: list[str]) -> list[str]:
    """User ids as the warehouse stores them (pseudonymised when a key is configured)."""
    key = pseudonym_key()
    return [pseudonym(u, key) if key else u for u in user_ids]


def erasure_requests() -> list[str]:
    """Raw user ids listed in CONV_ERASURE_FILE (one per line, # comments), if set."""
    path = os.environ.get("CONV_ERASURE_FILE")
    if not path or not Path(path).exists():
        return []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def erasure_hash(stored_id: str) -> str:
    """What ops.erasures keeps of an erased user: a hash, not the id."""
    return hashlib.sha256(stored_id.encode()).hexdigest()


def drop_erased(frame: pl.DataFrame, erased: set[str], column: str = "user_id") -> pl.DataFrame:
    """Rows of users on the erasure list removed (each distinct id hashed once)."""
    if not erased or frame.is_empty():
        return frame
    ids = frame[column].drop_nulls().unique().to_list()
    gone = [i for i in ids if erasure_hash(i) in erased]
    return frame.filter(~pl.col(column).is_in(gone)) if gone else frame
