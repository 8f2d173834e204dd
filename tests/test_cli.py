"""The command line: one-line errors with a non-zero exit, and a run that prints its summary."""

from __future__ import annotations

import pytest

from conv_assets.cli import main
from tests.conftest import CANONICAL_HEADER, write_csv


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


def test_unknown_source(env, capsys):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, ["e1,2024-05-06T10:00:00Z,view,u1,,p1,,,,,"])
    assert main(["run", "--source", "shopify"]) == 2
    assert "unknown source 'shopify'" in _one_line_error(capsys)


def test_empty_landing_dir(env, capsys):
    assert main(["run"]) == 2
    assert "no data files" in _one_line_error(capsys)


def test_missing_landing_dir(env, tmp_path, capsys):
    assert main(["run", "--landing", str(tmp_path / "nope")]) == 2
    assert "does not exist" in _one_line_error(capsys)


def test_warehouse_that_is_not_duckdb(env, tmp_path, capsys):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, ["e1,2024-05-06T10:00:00Z,view,u1,,p1,,,,,"])
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("this is not a database\n" * 100)
    assert main(["run", "--warehouse", str(bogus)]) == 2
    assert "cannot open warehouse" in _one_line_error(capsys)


def test_unreadable_mapping_file(env, tmp_path, capsys):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, ["e1,2024-05-06T10:00:00Z,view,u1,,p1,,,,,"])
    assert main(["run", "--mapping", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read mapping file" in _one_line_error(capsys)


def test_bad_selection(env, capsys):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, ["e1,2024-05-06T10:00:00Z,view,u1,,p1,,,,,"])
    assert main(["run", "--select", "key:(("]) == 2
    assert "bad --select" in _one_line_error(capsys)


def test_demo_generates_then_runs_and_prints_summary(env, capsys, monkeypatch):
    monkeypatch.setattr("conv_assets.cli.DEMO", {"days": 2, "users": 20, "events_per_day": 200,
                                                  "seed": 1})
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "clean.events" in out and "quarantined rows by reason" in out
    files = sorted(p.name for p in env.landing.glob("*.csv"))
    # two days of events and the spend file (not an event file: ops.ingested_files has two)
    assert len([f for f in files if f.startswith("events_")]) == 2 and "marketing_spend.csv" in files
    assert (env.landing / ".truth" / "suspicious_users.csv").exists()  # hidden: not ingested
    assert env.scalar("SELECT count(*) FROM ops.ingested_files") == 2
    raw = env.scalar("SELECT count(*) FROM raw.events")
    assert raw == env.scalar("SELECT count(*) FROM clean.events") + env.scalar(
        "SELECT count(*) FROM clean.quarantine")


def test_generate_rejects_bad_sizes(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "out"), "--days", "0"]) == 2
    assert "must be positive" in _one_line_error(capsys)


@pytest.mark.parametrize("argv", [["generate"], ["run", "--source", "a", "--mapping", "b"]])
def test_usage_errors_exit_non_zero(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_only_empty_files(env, capsys):
    (env.landing / "zero.csv").write_text("")
    (env.landing / "header.csv").write_text(CANONICAL_HEADER + "\n")
    assert main(["run"]) == 2
    assert "no data rows in any of the 2 landed files" in capsys.readouterr().err.strip().splitlines()[-1]


def test_permission_denied_file_and_directory(tmp_path):
    """Run as an unprivileged user (root reads everything), as a shop's service account would."""
    import os
    import shutil
    import stat
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    root = Path(tempfile.mkdtemp(prefix="conv-perm-"))
    try:
        root.chmod(0o777)
        landing = root / "landing"
        landing.mkdir()
        landing.chmod(0o755)
        ok = write_csv(landing / "a.csv", CANONICAL_HEADER, ["e1,2024-05-06T10:00:00Z,view,u1,,p1,,,,,"])
        ok.chmod(0o644)
        locked = write_csv(landing / "b.csv", CANONICAL_HEADER, ["e2,2024-05-06T10:00:00Z,view,u1,,p1,,,,,"])
        locked.chmod(0)
        cli = [str(Path(sys.executable).parent / "conv-assets"), "run", "--landing", str(landing),
               "--warehouse", str(root / "wh.duckdb")]
        if os.geteuid() == 0:
            cli = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cli]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CONV_", "DAGSTER_"))}
        env["HOME"] = str(root)

        def run() -> subprocess.CompletedProcess:
            return subprocess.run(cli, env=env, capture_output=True, text=True, timeout=300, cwd=root)

        done = run()
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [
            f"conv-assets: error: cannot read {locked} in the landing directory: permission denied"]
        locked.unlink()
        sub = landing / "2024"
        sub.mkdir()
        sub.chmod(0)
        done = run()
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [
            f"conv-assets: error: cannot read {sub} in the landing directory: permission denied"]
        sub.chmod(stat.S_IRWXU)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_dagster_home_that_does_not_exist(env, tmp_path, capsys, monkeypatch):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER, ["e1,2024-05-06T10:00:00Z,view,u1,,p1,,,,,"])
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "nowhere"))
    assert main(["run"]) == 2
    assert "DAGSTER_HOME" in _one_line_error(capsys)
