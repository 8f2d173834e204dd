"""PostgreSQL for the lake tests: the server `.ci/run` started (CONV_TEST_POSTGRES, a libpq
connection string without dbname), else a throwaway cluster started here with
deploy/local/postgres.sh. PostgreSQL missing is a failure, not a skip: CI installs it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from conv_assets.resources import open_warehouse

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "local" / "postgres.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres() -> str:
    given = os.environ.get("CONV_TEST_POSTGRES")
    if given:
        yield given
        return
    # Not under pytest's private tmp dir: the cluster's user (postgres, when run as root) must
    # reach it.
    root = Path(tempfile.mkdtemp(prefix="conv-pg-"))
    root.chmod(0o755)
    started = subprocess.run(["bash", str(SCRIPT), "start", str(root / "pg"), str(_free_port())],
                             capture_output=True, text=True)
    assert started.returncode == 0, f"could not start PostgreSQL: {started.stderr}"
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(root / "pg")], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    con = psycopg2.connect(f"{server} dbname=postgres")
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')  # a name made here, not input
    con.close()
    return name


@dataclass
class Lake:
    """A fresh DuckLake: its catalog a new PostgreSQL database, its data under `data_path`."""

    attach: str
    data_path: str
    dagster_pg_url: str

    @property
    def env(self) -> dict[str, str]:
        return {"CONV_LAKE": self.attach, "CONV_LAKE_DATA_PATH": self.data_path}

    def connect(self, read_only: bool = True):
        return open_warehouse("", read_only=read_only, lake=self.attach, lake_data_path=self.data_path)

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        con = self.connect()
        try:
            return con.execute(sql, params or {}).fetchall()
        finally:
            con.close()


def pg_url(server: str, db: str) -> str:
    fields = dict(p.split("=", 1) for p in server.split())
    auth = fields.get("user", "postgres") + (f":{fields['password']}" if "password" in fields else "")
    return f"postgresql+psycopg2://{auth}@{fields.get('host', '127.0.0.1')}:{fields.get('port', '5432')}/{db}"


@pytest.fixture
def lake(postgres, tmp_path) -> Lake:
    catalog = create_database(postgres, "lake")
    dagster = create_database(postgres, "dagster")
    return Lake(attach=f"ducklake:postgres:dbname={catalog} {postgres}",
                data_path=str(tmp_path / "lake_data") + "/",
                dagster_pg_url=pg_url(postgres, dagster))
