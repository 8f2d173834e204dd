"""The landing sensor and the schedules, driven with Dagster's test contexts."""

from __future__ import annotations

import json
import os
from datetime import datetime

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
    assert ranges(requests) == [("2024-05-06", "2024-05-08")]
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
    assert ranges(requests) == [("2024-05-06", "2024-05-10")]
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
    assert ranges(requests) == [("2024-05-06", "2024-05-07")]
    # In-progress names are never picked up.
    (landing / "next.csv.part").write_text("half")
    assert settle(landing, cursor)[0] == []


def test_daily_schedule_requests_yesterday():
    ctx = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 5, 7, 1, 0))
    request = daily_schedule(ctx)
    assert request.partition_key == "2024-05-06"
    assert request.run_key == "daily-2024-05-06"


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
