"""Asking for runs and reading them.

A request snapshots the pipeline's data first; identical requests — same model, cause
and data snapshot — share one run (a unique key), so a burst of alerts starts one run.
A run records everything needed to train again: the pipeline as it was, the code hash
and the snapshot.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelsteward.errors import NotFound, UntrustedArtifact
from modelsteward.store.blobs import remember_blobs
from modelsteward.store.tables import Model, as_utc
from modelsteward.training import sources
from modelsteward.training.data import take_snapshot
from modelsteward.training.pipelines import find_pipeline
from modelsteward.training.specs import PipelineSpec
from modelsteward.training.tables import Pipeline, Run

if TYPE_CHECKING:
    from modelsteward.context import Steward

FINAL = ("succeeded", "failed")


def view(run: Run) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return None if value is None else as_utc(value).isoformat()

    return {
        "id": run.id,
        "model": run.model,
        "status": run.status,
        "reason": run.reason,
        "cause": run.cause,
        "requested_by": run.requested_by,
        "remediation_id": run.remediation_id,
        "parent_version": run.parent_version,
        "version": run.candidate_version,
        "data_hash": run.data_hash,
        "code_hash": run.spec.get("code_hash"),
        "progress": run.progress,
        "metrics": run.result.get("metrics", {}),
        "created_at": when(run.created_at),
        "started_at": when(run.started_at),
        "finished_at": when(run.finished_at),
    }


def event_of(run: Run) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "model": run.model,
        "status": run.status,
        "cause": run.cause,
        "version": run.candidate_version,
        "reason": run.reason,
    }


def dedup_key(model: str, cause: str, data_hash: str) -> str:
    return hashlib.sha256(f"{model}\0{cause}\0{data_hash}".encode()).hexdigest()


def check_trusted(pipeline: Pipeline) -> None:
    if not pipeline.trust.get("granted_by"):
        raise UntrustedArtifact(
            f"the pipeline of {pipeline.model!r} is code and its trust is not granted yet; "
            f"a risk manager can grant it with 'steward pipelines trust {pipeline.model}'"
        )


def request_run(
    steward: Steward,
    actor: str,
    model: str,
    *,
    cause: str,
    version: int | None = None,
    remediation_id: int | None = None,
    deduplicate: bool = True,
) -> dict[str, Any]:
    """Queue a run of the model's pipeline; the answer says whether an identical request
    already had one (``deduplicated``)."""
    with steward.db.read() as session:
        pipeline = find_pipeline(session, model)
        check_trusted(pipeline)
        stored = dict(pipeline.spec)
        spec = PipelineSpec.model_validate(stored)
        pipeline_id = pipeline.id
    snapshot = take_snapshot(steward, spec)
    key = dedup_key(model, cause, snapshot.sha256) if deduplicate else None
    if key is not None and (known := _by_key(steward, key)) is not None:
        return {**known, "deduplicated": True}
    recorded = {
        **stored,
        "code_hash": sources.code_hash(spec.source),
        "data": {**stored["data"], "snapshot": snapshot.sha256, "name": snapshot.name},
    }
    try:
        with steward.change(actor) as change:
            run = Run(
                pipeline_id=pipeline_id,
                model=model,
                status="queued",
                cause=cause[:512],
                requested_by=actor,
                remediation_id=remediation_id,
                parent_version=version if version is not None else _latest(change.session, model),
                dedup_key=key,
                data_hash=snapshot.sha256,
                spec=recorded,
                progress={},
                result={},
                created_at=datetime.now(UTC),
            )
            change.session.add(run)
            change.session.flush()
            remember_blobs(change.connection, {snapshot.sha256: snapshot.size})
            change.record("run.queued", "run", run.id, after=event_of(run))
            shown = view(run)
    except IntegrityError:
        if key is None or (known := _by_key(steward, key)) is None:
            raise
        return {**known, "deduplicated": True}
    steward.doorbell.set()
    return {**shown, "deduplicated": False}


def _latest(session: Session, model: str) -> int | None:
    found = session.scalar(select(Model.last_version).where(Model.name == model))
    return found or None


def _by_key(steward: Steward, key: str) -> dict[str, Any] | None:
    with steward.db.read() as session:
        run = session.scalar(select(Run).where(Run.dedup_key == key))
        return None if run is None else view(run)


def find_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    return run


def get_run(steward: Steward, run_id: int) -> dict[str, Any]:
    with steward.db.read() as session:
        return view(find_run(session, run_id))


def list_runs(
    steward: Steward, model: str | None = None, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    query = select(Run).order_by(Run.id.desc()).limit(limit)
    if model is not None:
        query = query.where(Run.model == model)
    if status is not None:
        query = query.where(Run.status == status)
    with steward.db.read() as session:
        return [view(r) for r in session.scalars(query)]


def run_log(steward: Steward, run_id: int) -> str:
    """The run's captured output: from the artifact store once finished, live before."""
    from modelsteward.training.execution import run_folder

    with steward.db.read() as session:
        run = find_run(session, run_id)
        sha = run.log_sha256
    if sha is not None:
        return b"".join(steward.artifacts.iter_bytes(sha)).decode("utf-8", "replace")
    path = run_folder(steward, run_id) / "out" / "log.txt"
    return path.read_text("utf-8", "replace") if path.exists() else ""
