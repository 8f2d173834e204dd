"""The daemon end-to-end scenario of tests/test_daemon_e2e.py on deployment (a): Dagster's
storage in PostgreSQL (deploy/local/dagster.yaml), the warehouse a DuckLake, runs as processes.
Landed files in phases, a late day, a gzip export, a kill inside a write transaction and a
restart, the nightly schedule and the chain sensor; the days end equal, by checksums, to one
in-process run into a DuckDB file."""

from tests.test_daemon_e2e import run_daemon_scenario


def test_daemon_keeps_every_day_right_on_a_lake(tmp_path, monkeypatch, lake):
    run_daemon_scenario(tmp_path, monkeypatch, lake)
