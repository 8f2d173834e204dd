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


class Env:
    """A landing directory and warehouse under a temp dir, with CONV_* pointing at them."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.landing = tmp_path / "landing"
        self.landing.mkdir(exist_ok=True)
        self.warehouse = tmp_path / "wh.duckdb"
        for var in ("CONV_SOURCE", "CONV_MAPPING", "CONV_SOURCE_TIMEZONE", "DAGSTER_HOME"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("CONV_LANDING_DIR", str(self.landing))
        monkeypatch.setenv("CONV_WAREHOUSE", str(self.warehouse))
        self._mp = monkeypatch

    def set(self, **kw: str) -> None:
        for k, v in kw.items():
            self._mp.setenv(k, v)

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


@pytest.fixture
def env(tmp_path, monkeypatch) -> Env:
    return Env(tmp_path, monkeypatch)


def _built(tmp_path_factory, landing: Path, source: str):
    """A warehouse built once per test module from real data (read-only use by the tests)."""
    if not SHARED.is_dir():
        pytest.skip(f"real data not present at {SHARED} (../shared is beside the project in CI)")
    root = tmp_path_factory.mktemp(source)

    def run_once() -> Env:
        # The environment is set only while running, so fixtures built earlier don't leak into
        # other tests. Runs are recorded in a DAGSTER_HOME of their own, so tests can read what
        # the assets published (their metadata), as a person would in the UI.
        with pytest.MonkeyPatch.context() as mp:
            e = Env(root, mp)
            home = root / "dagster_home"
            home.mkdir(exist_ok=True)
            e.set(CONV_LANDING_DIR=str(landing), CONV_SOURCE=source, DAGSTER_HOME=str(home))
            e.run()
        e.home = home
        e.rerun = run_once
        return e

    yield run_once()


@pytest.fixture(scope="session")
def uci(tmp_path_factory):
    yield from _built(tmp_path_factory, SHARED / "online_retail" / "by-day", "online_retail")


@pytest.fixture(scope="session")
def taobao(tmp_path_factory):
    yield from _built(tmp_path_factory, SHARED / "taobao", "taobao")


@pytest.fixture(scope="session")
def rees46(tmp_path_factory):
    yield from _built(tmp_path_factory, SHARED / "rees46", "rees46")


def published(env: Env, key: str) -> dict:
    """The metadata of an asset's latest materialization in the run history, as plain values."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(env.home)))
    event = instance.get_latest_materialization_event(dg.AssetKey(key.split("/")))
    assert event is not None, f"{key} was never materialized"
    meta = event.asset_materialization.metadata
    return {k: getattr(v, "value", v) for k, v in meta.items()}


def materialize_days(first: str, last: str | None = None, partitioned_only: bool = False):
    """Materialize the assets (or only the daily ones) for a day range, in one run."""
    import dagster as dg

    from conv_assets.definitions import ASSETS, build_resources

    assets = [a for a in ASSETS if a.partitions_def is not None] if partitioned_only else ASSETS
    tags = {"dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last or first}
    return dg.materialize(assets, resources=build_resources(), tags=tags)


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


CANONICAL_HEADER = ("event_id,event_time,event_type,user_id,session_id,product_id,category,brand,"
                    "price,quantity,order_id")
