"""Two `steward server` processes and one `steward worker` on one PostgreSQL database:
every once-per-cluster event is handled exactly once, whichever process committed it.

The counting subscriber is a real plugin: a package on PYTHONPATH whose entry point in
``modelsteward.subscribers`` every process discovers, as a third-party one would be.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.helpers import recorded, settings_for, wait_delivered

from modelsteward.api.server import free_port
from modelsteward.context import Steward

PLUGIN = """
import os
from modelsteward.events.subscribers import Subscriber

def count(steward, event):
    with open(os.environ["COUNT_FILE"], "a") as out:
        out.write(f"{event.id} {os.getpid()}\\n")

COUNTER = Subscriber("test.counter", "counts deliveries", frozenset({"model.created"}), count)
"""
ENTRY_POINTS = "[modelsteward.subscribers]\ntest.counter = steward_counter:COUNTER\n"
MODELS = 60


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "steward_counter-1.0.dist-info").mkdir(parents=True)
    (site / "steward_counter.py").write_text(PLUGIN)
    info = site / "steward_counter-1.0.dist-info"
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: steward-counter\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return site


@pytest.fixture
def cluster(
    tmp_path: Path, pg_database: str, plugin_path: Path
) -> Iterator[tuple[Steward, list[str], Path, list[subprocess.Popen[bytes]]]]:
    steward = Steward(settings_for(tmp_path / "home", pg_database))  # migrates once
    count_file = tmp_path / "counted.txt"
    env = {
        **os.environ,
        "STEWARD_HOME": str(steward.settings.home),
        "STEWARD_DB_URL": pg_database,
        "STEWARD_EVENTS_LEASE_SECONDS": "2",
        "STEWARD_SCHEDULER_SECONDS": "0.5",
        "COUNT_FILE": str(count_file),
        "PYTHONPATH": os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")]),
    }
    ports = [free_port(), free_port()]
    command = [sys.executable, "-m", "modelsteward"]
    processes = [
        subprocess.Popen(
            [*command, "server", "--port", str(p), "--background", "inline"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for p in ports
    ]
    processes.append(
        subprocess.Popen(
            [*command, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    )
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for url in urls:
            wait_up(url, processes)
        yield steward, urls, count_file, processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
        steward.close()


def wait_up(url: str, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        dead = [p for p in processes if p.poll() is not None]
        if dead:
            pytest.fail(f"a process died:\n{dead[0].stderr.read().decode()[-3000:]}")  # type: ignore[union-attr]
        time.sleep(0.2)
    pytest.fail(f"{url} never answered")


def handled_by(count_file: Path) -> tuple[Counter[int], set[int]]:
    lines = [line.split() for line in count_file.read_text().splitlines()]
    return Counter(int(event) for event, _ in lines), {int(pid) for _, pid in lines}


def test_two_servers_and_a_worker_handle_each_event_exactly_once_even_when_one_dies(
    cluster: tuple[Steward, list[str], Path, list[subprocess.Popen[bytes]]],
) -> None:
    steward, urls, count_file, processes = cluster
    token = steward.settings.admin_token_path.read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    clients = [httpx.Client(base_url=u, headers=headers, timeout=60) for u in urls]
    for i in range(MODELS):
        created = clients[i % 2].post("/api/v1/models", json={"name": f"model-{i}"})
        assert created.status_code == 201, created.text
    wait_delivered(clients[0])
    _, [holder] = handled_by(count_file)  # one process holds the subscriber's lease
    dying = next(p for p in processes if p.pid == holder)
    dying.kill()  # SIGKILL: its lease is left to run out
    dying.wait()
    alive = [c for c, p in zip(clients, processes, strict=False) if p is not dying]
    for i in range(MODELS, 2 * MODELS):
        created = alive[i % len(alive)].post("/api/v1/models", json={"name": f"model-{i}"})
        assert created.status_code == 201, created.text
    wait_delivered(alive[0])  # another process took the lease over
    ids = {e.id for e in recorded(steward, "model.created")}
    handled, pids = handled_by(count_file)
    assert len(ids) == 2 * MODELS and set(handled) == ids
    assert max(handled.values()) == 1, [e for e, n in handled.items() if n > 1]
    assert holder in pids and len(pids) == 2
    for client in clients:
        client.close()
