"""Background work runs in a worker process: beside `steward server`, or as `steward worker`.

A monitor run holds the GIL for seconds; in a serving process that would hold up
requests. So `steward server` starts one worker process at a lower CPU priority, stops
it when it stops, and its serving processes run no background work of their own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.test_background_work import register_with_timer
from tests.helpers import settings_for

from modelsteward.api.server import free_port
from modelsteward.context import Steward
from modelsteward.lifecycle.reading import version_lifecycle

TICK = {"STEWARD_SCHEDULER_SECONDS": "0.2"}


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Steward]:
    """A store whose one version sits in a state with a timer due one second after it starts."""
    steward = Steward(settings_for(tmp_path / "home", **TICK))
    register_with_timer(steward, tmp_path / "files")
    yield steward
    steward.close()


def steward_command(home: Steward, *args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "modelsteward", *args],
        env={**os.environ, "STEWARD_HOME": str(home.settings.home), **TICK, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until_expired(home: Steward, process: subprocess.Popen[bytes]) -> None:
    """Until the timer has fired. A worker at nice 10 on a machine busy with other tests
    gets a tenth of a core, so starting it (imports) alone may take most of a minute."""
    deadline = time.monotonic() + 180
    while version_lifecycle(home, "trial-model", 1).state != "expired":
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, errors = process.communicate()
            pytest.fail(f"the timer never fired; the process said:\n{errors.decode()[-3000:]}")
        time.sleep(0.2)


def children_of(pid: int) -> dict[int, tuple[str, int]]:
    """Child processes of ``pid``: their command lines and nice values."""
    found: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if entry.name.isdigit() and int(fields[1]) == pid:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(entry.name)] = (command, int(fields[16]))
        except (OSError, ValueError):
            continue
    return found


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_a_server_runs_background_work_in_a_lower_priority_worker_it_stops(home: Steward) -> None:
    port = free_port()
    with steward_command(home, "server", "--port", str(port)) as server:
        try:
            wait_until_expired(home, server)  # the timer fired: background work runs
            workers = {
                pid: nice
                for pid, (command, nice) in children_of(server.pid).items()
                if "modelsteward worker" in command
            }
            assert list(workers.values()) == [10]
            assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    (worker,) = workers
    deadline = time.monotonic() + 10
    while not gone(worker):
        assert time.monotonic() < deadline, "the worker outlived its server"
        time.sleep(0.1)


def test_steward_worker_does_background_work_until_told_to_stop(home: Steward) -> None:
    with steward_command(home, "worker") as worker:
        try:
            wait_until_expired(home, worker)
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0


def test_a_worker_with_background_work_switched_off_says_so(home: Steward) -> None:
    with steward_command(home, "worker", STEWARD_SCHEDULER_SECONDS="0") as worker:
        _, errors = worker.communicate(timeout=60)
    assert worker.returncode == 2
    assert b"STEWARD_SCHEDULER_SECONDS is 0" in errors
