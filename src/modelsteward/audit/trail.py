"""Reading the audit trail: newest first, by object, and verifying its chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from modelsteward.audit.chain import ChainReport, record_fields, verify_chain
from modelsteward.audit.subjects import model_objects
from modelsteward.context import Steward
from modelsteward.store.tables import AuditEvent


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {**record_fields(event), "hash": event.hash}


def list_events(
    steward: Steward,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: int = 100,
    before_seq: int | None = None,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """``model`` gathers every record that concerns the model: its own, and those of its
    versions, life cycle, tasks, deployments and monitors (``audit/subjects.py``)."""
    query = select(AuditEvent)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if before_seq:
        query = query.where(AuditEvent.seq < before_seq)
    with steward.db.read() as session:
        if model:
            objects = model_objects(session, model)
            query = query.where(
                or_(
                    *(
                        (AuditEvent.object_type == kind) & AuditEvent.object_id.in_(sorted(ids))
                        for kind, ids in objects.items()
                        if ids
                    )
                )
            )
        rows = session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)).all()
        return [event_view(e) for e in rows]


def verify(steward: Steward) -> ChainReport:
    with steward.db.read() as session:
        return verify_chain(session)
