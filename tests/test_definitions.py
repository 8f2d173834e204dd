"""The definitions load and validate the way `dagster dev` and `dg` load them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg

from conv_assets.definitions import defs

ROOT = Path(__file__).resolve().parents[1]


def test_every_asset_has_description_group_kinds_owners():
    graph = defs.resolve_asset_graph()
    for node in graph.asset_nodes:
        key = node.key
        assert node.description, key
        assert node.group_name and node.group_name != "default", key
        assert node.kinds, key
        assert node.owners, key
        assert key.path[0] in {"raw", "clean", "analytics", "ml", "ops"}, key
        assert len(key.path) == 2, key
        if node.is_materializable:
            assert node.pools == {"warehouse"}, key


def test_dagster_definitions_validate(tmp_path):
    exe = Path(sys.executable).parent / "dagster"
    proc = subprocess.run(
        [str(exe), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PATH": str(exe.parent), "DAGSTER_HOME": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dg_check_defs(tmp_path):
    exe = Path(sys.executable).parent / "dg"
    assert exe.exists() or shutil.which("dg"), "dagster-dg-cli is a dev dependency"
    proc = subprocess.run(
        [str(exe), "check", "defs"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PATH": str(exe.parent) + ":/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path),
             "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_asset_keys_are_schema_and_table():
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/events", "clean/events", "clean/quarantine"} <= keys
    assert isinstance(defs, dg.Definitions)
