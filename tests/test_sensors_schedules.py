"""The landing sensor and the schedules, driven with Dagster's test contexts."""

from __future__ import annotations

import json
import os
from datetime import date, datetime

import dagster as dg

from conv_assets.resources import Landing
from conv_assets.schedules import daily_schedule
from conv_assets.sensors import landing_sensor
from tests.conftest import CANONICAL_HEADER, write_csv

ROW = "{id},{day}T10:00:00Z,view,u1,,p1,,,,,"


def tick(landing_dir, cursor):
    ctx = dg.build_sensor_context(cursor=cursor, resources={"landing": Landing(directory=str(landing_dir))})
    result = landing_sensor(ctx)
    return result.run_requests or [], result.cursor


def settle(landing_dir, cursor):
    """Two ticks: the first sees the files, the second finds them unchanged and requests them."""
    first, cursor = tick(landing_dir, cursor)
    assert first == []
    return tick(landing_dir, cursor)


def ranges(requests):
    return sorted((r.tags["dagster/asset_partition_range_start"],
                   r.tags["dagster/asset_partition_range_end"]) for r in requests)


def test_each_file_version_loads_once(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    a = write_csv(landing / "a.csv", CANONICAL_HEADER,
                  [ROW.format(id=1, day="2024-05-06"), ROW.format(id=2, day="2024-05-08")])
    requests, cursor = settle(landing, None)
    assert ranges(requests) == [("2024-05-06", "2024-05-09")]
    key = requests[0].run_key
    assert key.startswith("a.csv:") and len(key) == len("a.csv:") + 64

    # The same file again, and more ticks: nothing new.
    for _ in range(3):
        again, cursor = tick(landing, cursor)
        assert again == []

    # Same content under a new name: not loaded again.
    (landing / "copy.csv").write_bytes(a.read_bytes())
    requests, cursor = settle(landing, cursor)
    assert requests == []
    assert json.loads(cursor)["files"]["copy.csv"]["duplicate_of"] == "a.csv"

    # Changed content: the new days and the days the old version covered are rebuilt.
    write_csv(a, CANONICAL_HEADER, [ROW.format(id=3, day="2024-05-10")])
    os.utime(a, ns=(1, 1_000_000_000))
    requests, cursor = settle(landing, cursor)
    assert ranges(requests) == [("2024-05-06", "2024-05-11")]
    assert requests[0].run_key != key

    # A restart with the same cursor requests nothing; with a lost cursor the run keys are the
    # same as before, so Dagster would not launch them twice.
    assert tick(landing, cursor)[0] == []
    replay, _ = settle(landing, None)
    assert requests[0].run_key in {r.run_key for r in replay}


def test_file_still_being_written_waits(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    part = landing / "big.csv"
    part.write_text(CANONICAL_HEADER + "\n" + ROW.format(id=1, day="2024-05-06") + "\n")
    requests, cursor = tick(landing, None)
    assert requests == []
    with part.open("a") as fh:  # still growing at the next tick
        fh.write(ROW.format(id=2, day="2024-05-07") + "\n")
    requests, cursor = tick(landing, cursor)
    assert requests == []
    requests, cursor = tick(landing, cursor)  # unchanged since the last look
    assert ranges(requests) == [("2024-05-06", "2024-05-08")]
    # In-progress names are never picked up.
    (landing / "next.csv.part").write_text("half")
    assert settle(landing, cursor)[0] == []


def test_daily_schedule_requests_yesterday():
    ctx = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 5, 7, 1, 0))
    request = daily_schedule(ctx)
    assert request.tags["dagster/asset_partition_range_start"] == "2024-05-06"
    assert request.tags["dagster/asset_partition_range_end"] == "2024-05-07"
    assert request.run_key == "daily-2024-05-06"
    assert daily_schedule.job_name == "ingest_job"


def test_sensor_run_materializes_the_files_days(env):
    write_csv(env.landing / "a.csv", CANONICAL_HEADER,
              [ROW.format(id=1, day="2024-05-06"), ROW.format(id=2, day="2024-05-07")])
    requests, _ = settle(env.landing, None)
    from conv_assets.definitions import ASSETS, build_resources
    from conv_assets.jobs import ingest_job

    # Definitions built now, so the resources point at this test's warehouse.
    defs = dg.Definitions(assets=ASSETS, jobs=[ingest_job], resources=build_resources())
    job = defs.resolve_job_def("ingest_job")
    result = job.execute_in_process(tags=requests[0].tags, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert env.query("SELECT event_date::VARCHAR, count(*) FROM clean.events GROUP BY 1 ORDER BY 1") == [
        ("2024-05-06", 1), ("2024-05-07", 1)]


def test_empty_export_never_blocks_the_tick(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "zero.csv").write_text("")
    (landing / "header_only.csv").write_text(CANONICAL_HEADER + "\n")
    write_csv(landing / "a.csv", CANONICAL_HEADER, [ROW.format(id=1, day="2024-05-06")])
    requests, cursor = settle(landing, None)
    assert ranges(requests) == [("2024-05-06", "2024-05-07")]
    files = json.loads(cursor)["files"]
    assert files["zero.csv"]["days"] == [] and files["header_only.csv"]["days"] == []


def test_a_file_that_cannot_be_read_is_a_logged_skip(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "locked.csv", CANONICAL_HEADER, [ROW.format(id=1, day="2024-05-06")])
    write_csv(landing / "ok.csv", CANONICAL_HEADER, [ROW.format(id=2, day="2024-05-07")])
    import conv_assets.sensors as sensors

    real = sensors.sha256_file

    def denied(path):
        if path.name == "locked.csv":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(sensors, "sha256_file", denied)
    requests, cursor = settle(landing, None)
    assert ranges(requests) == [("2024-05-07", "2024-05-08")]
    # Readable again: loaded at the next tick.
    monkeypatch.setattr(sensors, "sha256_file", real)
    requests, _ = tick(landing, cursor)
    assert ranges(requests) == [("2024-05-06", "2024-05-07")]


def test_a_broken_mapping_is_a_skip_not_a_raised_tick(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "a.csv", CANONICAL_HEADER, [ROW.format(id=1, day="2024-05-06")])
    resources = {"landing": Landing(directory=str(landing), mapping=str(tmp_path / "nope.yaml"))}
    cursor = None
    for _ in range(2):
        result = landing_sensor(dg.build_sensor_context(cursor=cursor, resources=resources))
        cursor = result.cursor
    assert not result.run_requests
    assert "cannot read mapping file" in result.skip_reason.skip_message


def test_chain_covers_the_neighbouring_days_within_the_partitions():
    from conv_assets.partitions import daily_partitions
    from conv_assets.sensors import chain_range

    assert chain_range(date(2024, 5, 6), date(2024, 5, 8)) == ("2024-05-05", "2024-05-09")
    last = date.fromisoformat(daily_partitions.get_last_partition_key())
    assert chain_range(last, last)[1] == last.isoformat()


def test_user_funnels_rebuild_the_entry_days_whose_window_holds_the_changed_days():
    from conv_assets.sensors import funnel_range

    # the default funnels' window is 7 days: a change on 05-10..05-12 touches entries from 05-03
    assert funnel_range(date(2024, 5, 10), date(2024, 5, 12)) == ("2024-05-03", "2024-05-12")
