"""/api/v1/events: the outbox, deliveries, subscribers, the catalogue, and redelivery."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from modelsteward.api.policy import allow, steward_of
from modelsteward.events import service
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal

router = APIRouter(prefix="/api/v1/events", tags=["events"])

Auditor = Annotated[Principal, Depends(allow(Permission.AUDIT_READ))]
Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Redeliverer = Annotated[Principal, Depends(allow(Permission.EVENTS_REDELIVER))]
Limit = Annotated[int, Query(ge=1, le=service.MAX_LIMIT)]
EventId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class RetryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subscriber: Annotated[str | None, Field(max_length=128)] = None


@router.get("")
def list_events(
    request: Request,
    who: Auditor,
    name: Annotated[str | None, Query(max_length=128)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    return service.recent_events(steward_of(request), name, limit, before)


@router.get("/deliveries")
def list_deliveries(
    request: Request,
    who: Auditor,
    state: Annotated[str | None, Query(max_length=16)] = None,
    subscriber: Annotated[str | None, Query(max_length=128)] = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    return service.list_deliveries(steward_of(request), state, subscriber, limit)


@router.get("/subscribers")
def subscribers(request: Request, who: Auditor) -> list[dict[str, Any]]:
    return service.subscriber_status(steward_of(request))


@router.get("/catalogue")
def catalogue(who: Reader) -> list[dict[str, Any]]:
    return service.catalogue_entries()


@router.post("/{event_id}/retry")
def retry(
    request: Request, who: Redeliverer, event_id: EventId, body: RetryBody | None = None
) -> dict[str, Any]:
    subscriber = body.subscriber if body else None
    queued = service.retry(steward_of(request), who.name, event_id, subscriber)
    return {"event_id": event_id, "queued": queued}
