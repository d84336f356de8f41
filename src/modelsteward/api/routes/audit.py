"""/api/v1/audit: read and verify the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from modelsteward.api.params import EarlierThan
from modelsteward.api.policy import allow, steward_of
from modelsteward.audit import checkpoints, trail
from modelsteward.audit.verification import verify_trail
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

Auditor = Annotated[Principal, Depends(allow(Permission.AUDIT_READ))]


@router.get("")
def list_events(
    request: Request,
    who: Auditor,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=128)] = None,
    model: Annotated[
        str | None,
        Query(
            max_length=128,
            description="Every record that concerns this model: its versions, life cycle, "
            "tasks, deployments and monitors too.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: EarlierThan = None,
) -> list[dict[str, Any]]:
    return trail.list_events(
        steward_of(request),
        object_type=object_type,
        object_id=object_id,
        model=model,
        limit=limit,
        before_seq=before_seq,
    )


@router.get("/verify")
def verify(
    request: Request,
    who: Auditor,
    expect_head: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, Any]:
    """The chain recomputed and checked against its latest signed checkpoint and, when
    given, the head hash an auditor kept elsewhere."""
    return verify_trail(steward_of(request), expect_head).as_dict()


@router.post("/checkpoint", status_code=201)
def checkpoint(request: Request, who: Auditor) -> dict[str, Any]:
    """Sign and keep the chain's head now (the ``audit.checkpoint`` job does it hourly)."""
    point = checkpoints.take(steward_of(request))
    return {"seq": point.seq, "hash": point.hash, "at": point.at.isoformat()}
