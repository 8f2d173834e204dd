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
    files = sorted(p.name for p in env.landing.iterdir())
    assert len(files) == 2
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
