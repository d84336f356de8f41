"""/api/v1/channels and /api/v1/notifications: notification channels and the delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request

from modelsteward.alerting.channels import notifications, service, trial
from modelsteward.api.policy import allow, steward_of
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
log_router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

Reader = Annotated[Principal, Depends(allow(Permission.CHANNELS_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.CHANNELS_MANAGE))]
Name = Annotated[str, Path(max_length=128)]
NotificationId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Document = Annotated[dict[str, Any], Body()]


@router.get("")
def list_channels(request: Request, who: Reader) -> list[dict[str, Any]]:
    return service.list_channels(steward_of(request))


@router.get("/kinds")
def kinds(who: Reader) -> list[dict[str, Any]]:
    return service.list_kinds()


@router.post("", status_code=201)
def create(request: Request, who: Manager, body: Document) -> dict[str, Any]:
    return service.create_channel(steward_of(request), who.name, body)


@router.get("/{name}")
def show(request: Request, who: Reader, name: Name) -> dict[str, Any]:
    return service.get_channel(steward_of(request), name)


@router.patch("/{name}")
def change(request: Request, who: Manager, name: Name, body: Document) -> dict[str, Any]:
    return service.update_channel(steward_of(request), who.name, name, body)


@router.delete("/{name}", status_code=204)
def remove(request: Request, who: Manager, name: Name) -> None:
    service.remove_channel(steward_of(request), who.name, name)


@router.post("/{name}/test")
def test(request: Request, who: Manager, name: Name) -> dict[str, Any]:
    return trial.test(steward_of(request), name)


@router.get("/{name}/preview")
def preview(request: Request, who: Reader, name: Name) -> dict[str, Any]:
    return trial.preview(steward_of(request), name)


@log_router.get("")
def list_notifications(
    request: Request,
    who: Reader,
    status: Annotated[str | None, Query(max_length=16)] = None,
    channel: Annotated[str | None, Query(max_length=128)] = None,
    alert_id: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=notifications.MAX_LIMIT)] = 100,
) -> list[dict[str, Any]]:
    return notifications.list_notifications(steward_of(request), status, channel, alert_id, limit)


@log_router.get("/{notification_id}")
def show_notification(
    request: Request, who: Reader, notification_id: NotificationId
) -> dict[str, Any]:
    return notifications.show_notification(steward_of(request), notification_id)


@log_router.post("/{notification_id}/retry")
def retry(request: Request, who: Manager, notification_id: NotificationId) -> dict[str, Any]:
    return notifications.retry_notification(steward_of(request), who.name, notification_id)
