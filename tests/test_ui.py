"""The Dagster UI as a person sees it: webserver up, GraphQL lists everything, lineage renders."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic"]
QUERY = """{
  assetNodes { assetKey { path } dependencyKeys { path }
               assetChecksOrError { ... on AssetChecks { checks { name } } } }
  workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError {
    ... on RepositoryLocation { repositories { schedules { name } sensors { name } } } } } } }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())["data"]


@pytest.fixture
def webserver(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "CONV_WAREHOUSE": str(tmp_path / "wh.duckdb"),
           "CONV_LANDING_DIR": str(tmp_path / "landing")}
    port = _free_port()
    exe = Path(sys.executable).parent / "dagster-webserver"
    proc = subprocess.Popen([str(exe), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
            data = _graphql(port, QUERY)
            if data["assetNodes"]:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"webserver did not come up: {proc.stdout.read().decode()[-2000:]}")
        time.sleep(1)
    yield port
    proc.terminate()
    proc.wait(timeout=30)


def test_graphql_lists_assets_checks_schedules_sensors(webserver):
    data = _graphql(webserver, QUERY)
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    from conv_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    expected = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert set(nodes) == expected
    for key in expected:
        want = {p.to_user_string() for p in graph.get(dg_key(key)).parent_keys}
        got = {"/".join(d["path"]) for d in nodes[key]["dependencyKeys"]}
        assert got == want, key
    checks = {c["name"] for n in nodes.values() for c in n["assetChecksOrError"]["checks"]}
    assert {"rows_accounted_for", "unique_event_ids", "quarantine_share_below_threshold",
            "rates_within_0_1"} <= checks
    repos = [r for e in data["workspaceOrError"]["locationEntries"]
             for r in e["locationOrLoadError"]["repositories"]]
    assert {s["name"] for r in repos for s in r["schedules"]} == {"daily_schedule", "models_schedule"}
    assert {s["name"] for r in repos for s in r["sensors"]} == {
        "landing_sensor", "daily_chain_sensor", "automation_sensor"}


def dg_key(user_string: str):
    import dagster as dg

    return dg.AssetKey(user_string.split("/"))


def test_asset_graph_renders_in_chromium(webserver, tmp_path):
    from matplotlib.image import imread
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), ".ci/run installs Debian's chromium"
    shot = tmp_path / "asset-graph.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"http://127.0.0.1:{webserver}/asset-groups", wait_until="networkidle",
                  timeout=120_000)
        skip = page.get_by_role("button", name="Skip")
        try:
            skip.click(timeout=10_000)
        except Exception:
            pass
        page.get_by_text("Global asset lineage").first.wait_for(timeout=60_000)
        # The lineage shows one box per group, linked ingest -> clean -> analytics -> ops.
        for group in ("ingest", "clean", "analytics", "ops"):
            page.get_by_text(group, exact=True).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shot))
        browser.close()
    pixels = imread(io.BytesIO(shot.read_bytes()), format="png")
    assert pixels.shape[0] >= 800
    # Not blank: many distinct colours and real contrast.
    flat = (pixels[..., :3] * 255).astype(int).reshape(-1, 3)
    assert len(np.unique(flat, axis=0)) > 50
    assert flat.std() > 10
