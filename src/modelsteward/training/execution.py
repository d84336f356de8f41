"""Carrying a queued run out: claim it, train in a child, register or fail, never hang.

A claim is a compare-and-set (queued -> running) that takes a lease; the supervising
thread renews it every tick while the child trains. If that process dies, nobody renews
the lease, and ``reap_abandoned`` (the ``training.runs`` job, in any process) marks the
run failed with the reason, so no run stays "running" forever.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from modelsteward.errors import StewardError
from modelsteward.store.blobs import remember_blobs
from modelsteward.training import sources
from modelsteward.training.candidates import register_candidate
from modelsteward.training.runner import Outcome, last_progress, run_child
from modelsteward.training.runs import event_of, find_run
from modelsteward.training.specs import PipelineSpec
from modelsteward.training.tables import Run

if TYPE_CHECKING:
    from modelsteward.context import Steward

LEASE_S = 30.0
ACTOR = "training"
OWNER = f"{socket.gethostname()}:{os.getpid()}"


def run_folder(steward: Steward, run_id: int) -> Path:
    return steward.settings.home / "training" / "runs" / str(run_id)


def claim(steward: Steward, run_id: int, owner: str = OWNER) -> bool:
    """Take a queued run (compare-and-set): True for the one caller that got it."""
    token = f"{owner}:{uuid.uuid4().hex[:8]}"
    with steward.change(ACTOR) as change:
        taken = change.connection.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "queued")
            .values(
                status="running",
                lease_owner=token,
                lease_until=time.time() + LEASE_S,
                started_at=datetime.now(UTC),
            )
        ).rowcount
        if taken:
            run = find_run(change.session, run_id)
            change.record("run.started", "run", run_id, after=event_of(run))
    return bool(taken)


def queued(steward: Steward, limit: int = 10) -> list[int]:
    with steward.db.read() as session:
        query = select(Run.id).where(Run.status == "queued").order_by(Run.id).limit(limit)
        return list(session.scalars(query))


def _renew(steward: Steward, run_id: int, folder: Path) -> None:
    with steward.db.transaction() as conn:
        conn.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(lease_until=time.time() + LEASE_S, progress=last_progress(folder))
        )


def finish(
    steward: Steward, run_id: int, outcome: Outcome, version: int | None, folder: Path | None
) -> dict[str, Any]:
    log = folder / "log.txt" if folder is not None else None
    stored = steward.artifacts.put_file(log) if log is not None and log.exists() else None
    log_sha = stored.sha256 if stored is not None else None
    with steward.change(ACTOR) as change:
        if stored is not None:
            remember_blobs(change.connection, {stored.sha256: stored.size})
        run = find_run(change.session, run_id)
        if run.status != "running":  # reaped meanwhile: its end is already recorded
            return event_of(run)
        run.status = "succeeded" if version is not None else "failed"
        run.reason = None if version is not None else (outcome.reason or "failed")[:4000]
        run.candidate_version, run.log_sha256 = version, log_sha
        run.result = outcome.result
        if folder is not None:
            run.progress = last_progress(folder)
        run.finished_at, run.lease_until = datetime.now(UTC), None
        change.session.flush()
        change.record(f"run.{run.status}", "run", run_id, after=event_of(run))
        return event_of(run)


def job_of(run: Run, source: Path, data: Path) -> dict[str, Any]:
    return {
        "entry_point": run.spec["entry_point"],
        "source": str(source),
        "data": str(data),
        "target": run.spec["target"],
        "params": run.spec.get("params", {}),
        "seed": run.spec.get("seed", 0),
        "memory_mb": run.spec["memory_mb"],
    }


def train(
    steward: Steward, spec: dict[str, Any], folder: Path, run: Run, *, renew: bool = True
) -> Outcome:
    """Place the recorded code and data snapshot in ``folder`` and train there; with
    ``renew`` each tick renews the run's lease and shows its progress."""
    recorded = {k: v for k, v in spec.items() if k != "code_hash"}
    pipeline = PipelineSpec.model_validate({**recorded, "data": _original(spec["data"])})
    if sources.code_hash(pipeline.source) != spec["code_hash"]:
        return Outcome(False, "the pipeline's source changed since the run was recorded")
    source = sources.place(steward.artifacts, pipeline.source, folder / "source")
    data = steward.artifacts.copy_to(spec["data"]["snapshot"], folder / spec["data"]["name"])

    def tick() -> None:
        if renew:
            _renew(steward, run.id, folder / "out")

    return run_child(job_of(run, source, data), folder / "out", pipeline.timeout_s, tick)


def _original(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("snapshot", "name")}


def execute(steward: Steward, run_id: int) -> dict[str, Any]:
    """Train a claimed run and record its end; every failure becomes the run's reason."""
    with steward.db.read() as session:
        run = find_run(session, run_id)
    folder = run_folder(steward, run_id)
    version: int | None = None
    try:
        outcome = train(steward, run.spec, folder, run)
        if outcome.ok:
            version = register_candidate(steward, run, outcome.result, folder / "out")
    except StewardError as exc:
        outcome = Outcome(False, exc.message if hasattr(exc, "message") else str(exc))
    except Exception as exc:  # the run must end recorded, whatever broke
        outcome = Outcome(False, f"the runner failed: {type(exc).__name__}: {exc}")
    return finish(steward, run_id, outcome, version, folder / "out")


def reap_abandoned(steward: Steward, now: float | None = None) -> int:
    """Fail running runs whose lease ran out: the process supervising them is gone."""
    now = time.time() if now is None else now
    with steward.db.read() as session:
        stale = list(
            session.scalars(select(Run.id).where(Run.status == "running", Run.lease_until < now))
        )
    reaped = 0
    for run_id in stale:
        with steward.change(ACTOR) as change:
            done = change.connection.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == "running", Run.lease_until < now)
                .values(
                    status="failed",
                    reason="the process running it stopped (its lease ran out); "
                    "the run was interrupted",
                    finished_at=datetime.now(UTC),
                    lease_until=None,
                )
            ).rowcount
            if done:
                change.record(
                    "run.failed", "run", run_id, after=event_of(find_run(change.session, run_id))
                )
                reaped += 1
    return reaped
