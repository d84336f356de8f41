"""Defining a model's retraining pipeline, reading it, trusting its code.

A pipeline is code: creating one records a trust decision as registering a python-flavor
version does (granted at once when the creator may grant trust, otherwise requested and
waiting for a risk manager), and runs start only once it is granted. Creation checks in
a child process (under the pipeline's memory limit) that the module imports, that the
function exists and that the data reads and has the target column.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.registry.models import find_model
from modelsteward.store.blobs import remember_blobs
from modelsteward.store.tables import as_utc
from modelsteward.training import sources
from modelsteward.training.cron import parse_cron
from modelsteward.training.runner import run_child
from modelsteward.training.specs import FileData, PipelineSpec, check_model_name, parse_spec
from modelsteward.training.tables import Pipeline

if TYPE_CHECKING:
    from modelsteward.context import Steward

CHECK_TIMEOUT_S = 120.0


def view(pipeline: Pipeline) -> dict[str, Any]:
    spec = dict(pipeline.spec)
    return {
        "id": pipeline.id,
        "model": pipeline.model,
        **spec,
        "code_hash": pipeline.code_hash,
        "trust": pipeline.trust,
        "trusted": bool(pipeline.trust.get("granted_by")),
        "next_run_at": None
        if pipeline.next_run_at is None
        else as_utc(pipeline.next_run_at).isoformat(),
        "created_by": pipeline.created_by,
        "created_at": as_utc(pipeline.created_at).isoformat(),
        "updated_at": as_utc(pipeline.updated_at).isoformat(),
    }


def _event(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "model": pipeline.model,
        "entry_point": pipeline.spec["entry_point"],
        "source": pipeline.spec["source"],
        "data": pipeline.spec["data"],
        "code_hash": pipeline.code_hash,
        "trust": pipeline.trust,
    }


def find_pipeline(session: Session, model: str) -> Pipeline:
    check_model_name(model)
    pipeline = session.scalar(select(Pipeline).where(Pipeline.model == model))
    if pipeline is None:
        raise NotFound(f"model {model!r} has no retraining pipeline")
    return pipeline


def check_runs(steward: Steward, spec: PipelineSpec) -> None:
    """Import the entry point and read the data in a child, as a run would; raise why not."""
    with tempfile.TemporaryDirectory(prefix="steward-pipeline-check-") as tmp:
        folder = Path(tmp)
        source = sources.place(steward.artifacts, spec.source, folder / "source")
        job = {
            "check": True,
            "entry_point": spec.entry_point,
            "source": str(source),
            "data": spec.data.location if isinstance(spec.data, FileData) else None,
            "target": spec.target,
            "memory_mb": spec.memory_mb,
        }
        outcome = run_child(job, folder / "check", min(spec.timeout_s, CHECK_TIMEOUT_S))
    if not outcome.ok:
        raise InvalidInput(f"pipeline does not run: {outcome.reason}")


def _trust(spec: PipelineSpec, actor: Principal) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    granted = actor.can(Permission.TRUST_GRANT)
    return {
        "reason": spec.trust_reason,
        "requested_by": actor.name,
        "requested_at": now,
        "granted_by": actor.name if granted else None,
        "granted_at": now if granted else None,
    }


def create_pipeline(
    steward: Steward, actor: Principal, model: str, data: dict[str, Any], *, replace: bool = False
) -> dict[str, Any]:
    """Attach (or with ``replace``, change) a model's pipeline, once it is shown to run."""
    check_model_name(model)
    spec = parse_spec(data)
    with steward.db.read() as session:
        find_model(session, model)
    code_hash = sources.code_hash(spec.source)
    check_runs(steward, spec)
    stored = spec.model_dump(mode="json")
    now = datetime.now(UTC)
    with steward.change(actor.name) as change:
        session = change.session
        pipeline = session.scalar(select(Pipeline).where(Pipeline.model == model))
        if pipeline is not None and not replace:
            raise Conflict(f"model {model!r} has a pipeline; replace it to change it")
        action = "pipeline.updated" if pipeline is not None else "pipeline.created"
        if pipeline is None:
            pipeline = Pipeline(model=model, created_by=actor.name, created_at=now)
            session.add(pipeline)
        pipeline.spec, pipeline.code_hash = stored, code_hash
        pipeline.trust, pipeline.updated_at = _trust(spec, actor), now
        pipeline.next_run_at = parse_cron(spec.schedule).next_after(now) if spec.schedule else None
        session.flush()
        change.record(action, "pipeline", pipeline.id, after=_event(pipeline))
        return view(pipeline)


def grant_trust(steward: Steward, actor: Principal, model: str) -> dict[str, Any]:
    """A risk manager accepts that the pipeline's code may run."""
    with steward.change(actor.name) as change:
        pipeline = find_pipeline(change.session, model)
        if pipeline.trust.get("granted_by"):
            return view(pipeline)
        now = datetime.now(UTC).isoformat()
        pipeline.trust = {**pipeline.trust, "granted_by": actor.name, "granted_at": now}
        change.session.flush()
        change.record("pipeline.trusted", "pipeline", pipeline.id, after=_event(pipeline))
        return view(pipeline)


def upload_source(steward: Steward, content: bytes, name: str) -> dict[str, Any]:
    """Store an uploaded ``.py`` file or ``.tar.gz`` folder; the answer is the ``source``
    a pipeline names."""
    if not name.endswith((".py", ".tar.gz", ".tgz")) or "/" in name or "\\" in name:
        raise InvalidInput("source: upload a .py file or a .tar.gz folder")
    blob = steward.artifacts.put_bytes(content)
    with steward.db.transaction() as conn:
        remember_blobs(conn, {blob.sha256: blob.size})
    return {"kind": "artifact", "sha256": blob.sha256, "name": name}


def list_pipelines(steward: Steward) -> list[dict[str, Any]]:
    with steward.db.read() as session:
        return [view(p) for p in session.scalars(select(Pipeline).order_by(Pipeline.model))]


def get_pipeline(steward: Steward, model: str) -> dict[str, Any]:
    with steward.db.read() as session:
        return view(find_pipeline(session, model))
