"""Running the child process of a run and watching it: time limit, memory limit, log.

The child (``training/child.py``) limits its own address space; this side kills its
whole process group once the time limit passes, calls ``on_tick`` every ``tick_s`` while
it runs (the lease renewal and progress of ``runs.py``), and turns whatever happened into
an outcome with a reason a person can act on.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUIET_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TICK_S = 1.0


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str | None = None
    result: dict[str, Any] = field(default_factory=dict)


def last_progress(folder: Path) -> dict[str, Any]:
    path = folder / "progress.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    for line in reversed(lines):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict):
            return found
    return {}


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_child(
    job: dict[str, Any],
    folder: Path,
    timeout_s: float,
    on_tick: Callable[[], None] = lambda: None,
    tick_s: float = TICK_S,
) -> Outcome:
    """Run one job in a fresh interpreter; its output and log go to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    job = {**job, "out": str(folder)}
    (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")
    (folder / "result.json").unlink(missing_ok=True)
    env = {**os.environ, **QUIET_THREADS, "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    with (folder / "log.txt").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "modelsteward.training.child", str(folder / "job.json")],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=folder,
            env=env,
            start_new_session=True,
        )
        try:
            while True:
                left = timeout_s - (time.monotonic() - started)
                if left <= 0:
                    _stop(process)
                    return Outcome(
                        False, f"timed out after {timeout_s:g} s; the process was killed"
                    )
                try:
                    process.wait(timeout=min(tick_s, left))
                    break
                except subprocess.TimeoutExpired:
                    on_tick()
        except BaseException:
            _stop(process)
            raise
    return _outcome(process.returncode, folder, job)


def _outcome(code: int, folder: Path, job: dict[str, Any]) -> Outcome:
    try:
        result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = None
    if isinstance(result, dict):
        if result.get("ok"):
            return Outcome(True, None, result)
        return Outcome(False, str(result.get("error") or "the pipeline failed"), result)
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return Outcome(
            False,
            f"the process was killed by {name} (memory limit {job['memory_mb']} MB?) "
            "before it reported a result",
        )
    if code == 3:
        return Outcome(False, f"ran out of memory (limit {job['memory_mb']} MB)")
    return Outcome(False, f"the process exited with code {code} without a result")
