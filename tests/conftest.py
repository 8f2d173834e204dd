from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conv_assets.pipeline import run_pipeline
from conv_assets.settings import load_settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"real data not present at {SHARED} (../shared is beside the project in CI)")
    return SHARED


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Point every CONV_* setting at a fresh landing dir and warehouse under tmp_path."""
    landing = tmp_path / "landing"
    landing.mkdir()
    for var in ("CONV_SOURCE", "CONV_MAPPING", "CONV_SOURCE_TIMEZONE", "DAGSTER_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CONV_LANDING_DIR", str(landing))
    monkeypatch.setenv("CONV_WAREHOUSE", str(tmp_path / "wh.duckdb"))

    class Env:
        def __init__(self) -> None:
            self.landing = landing
            self.warehouse = tmp_path / "wh.duckdb"

        def set(self, **kw: str) -> None:
            for k, v in kw.items():
                monkeypatch.setenv(k, v)

        def run(self, select: str | None = None):
            return run_pipeline(load_settings(), select)

        def query(self, sql: str, params: dict | None = None) -> list[tuple]:
            con = duckdb.connect(str(self.warehouse), read_only=True)
            try:
                return con.execute(sql, params or {}).fetchall()
            finally:
                con.close()

        def scalar(self, sql: str, params: dict | None = None):
            return self.query(sql, params)[0][0]

    return Env()


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


CANONICAL_HEADER = ("event_id,event_time,event_type,user_id,session_id,product_id,category,brand,"
                    "price,quantity,order_id")
