"""A run launcher that knows when a run's process has died, so Dagster can fail and retry it.

Dagster's DefaultRunLauncher starts each run as a local process but cannot tell run monitoring
whether that process is still alive: a run whose process was killed (SIGKILL, out of memory, a
reboot) stays STARTED forever and holds the `warehouse` pool. This launcher answers the health
check from the process id the run logged when it started ("Started process for run (pid: N)").
With `run_monitoring` on, the daemon marks such a run failed and `run_retries` launches it again.
Only for runs on this machine (the default deployment); Kubernetes has its own launcher.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterEventType
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun


def run_pid(instance, run_id: str) -> int | None:
    """The pid of the run's process: the first engine event of the run that carries a pid
    ("Started process for run (pid: N)", logged by the code server that spawned it)."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        data = event.engine_event_data if event is not None else None
        value = data.metadata.get("pid") if data is not None else None
        if value is not None:
            return int(getattr(value, "value", value))
    return None


def process_alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie, killed but not yet reaped, counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class LocalRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher plus a worker health check for run monitoring (see module docstring)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        pid = run_pid(self._instance, run.run_id)
        if pid is None:
            # Not started yet (or starting): the start timeout of run monitoring covers this.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no process id logged yet")
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {pid} is running")
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run process {pid} is gone")
