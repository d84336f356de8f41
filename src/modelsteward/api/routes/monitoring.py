"""/api/v1 monitors and metric points: list, read, change, run now, and points over time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from modelsteward.api.params import Number
from modelsteward.api.policy import allow, steward_of
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal
from modelsteward.monitoring import pinning, service
from modelsteward.monitoring.views import MonitorView, PointView, RunResult

router = APIRouter(prefix="/api/v1", tags=["monitoring"])

Reader = Annotated[Principal, Depends(allow(Permission.INVENTORY_READ))]
Writer = Annotated[Principal, Depends(allow(Permission.MONITORING_WRITE))]
Text = Annotated[str | None, Query(max_length=128)]


class MonitorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    spec: dict[str, Any]


class MonitorChange(BaseModel):
    """Top-level spec fields to replace (``window``, ``thresholds``...) and/or ``enabled``."""

    model_config = ConfigDict(extra="forbid")
    spec: dict[str, Any] | None = None
    enabled: bool | None = None


@router.get("/deployments/{name}/monitors", response_model=list[MonitorView])
async def list_monitors(name: str, request: Request, who: Reader) -> list[MonitorView]:
    return await run_in_threadpool(service.list_monitors, steward_of(request), name)


@router.post("/deployments/{name}/monitors", status_code=201, response_model=MonitorView)
async def create_monitor(
    name: str, body: MonitorCreate, request: Request, who: Writer
) -> MonitorView:
    return await run_in_threadpool(
        service.create_monitor, steward_of(request), who.name, name, body.name, body.spec
    )


@router.get("/monitors/{monitor_id}", response_model=MonitorView)
async def get_monitor(monitor_id: Number, request: Request, who: Reader) -> MonitorView:
    return await run_in_threadpool(service.get_monitor, steward_of(request), monitor_id)


@router.patch("/monitors/{monitor_id}", response_model=MonitorView)
async def update_monitor(
    monitor_id: Number, body: MonitorChange, request: Request, who: Writer
) -> MonitorView:
    return await run_in_threadpool(
        lambda: service.update_monitor(
            steward_of(request), who.name, monitor_id, spec=body.spec, enabled=body.enabled
        )
    )


@router.post("/monitors/{monitor_id}/run", response_model=RunResult)
async def run_monitor(monitor_id: Number, request: Request, who: Writer) -> RunResult:
    """Run now over the window ending now, after writing this server's buffered log."""
    prediction_log = getattr(request.app.state, "prediction_log", None)
    if prediction_log is not None:
        await run_in_threadpool(prediction_log.flush)
    return await run_in_threadpool(service.run_now, steward_of(request), monitor_id)


class BaselinePin(BaseModel):
    """The window of the log to keep as the monitor's baseline, ending at ``end`` (now)."""

    model_config = ConfigDict(extra="forbid")
    window: dict[str, Any]
    end: datetime | None = None


@router.put("/monitors/{monitor_id}/baseline", response_model=MonitorView)
async def pin_baseline(
    monitor_id: Number, body: BaselinePin, request: Request, who: Writer
) -> MonitorView:
    """Pin the monitor's reference to a window of the log (accepting a new normal)."""
    prediction_log = getattr(request.app.state, "prediction_log", None)
    if prediction_log is not None:
        await run_in_threadpool(prediction_log.flush)
    return await run_in_threadpool(
        lambda: pinning.pin_baseline(
            steward_of(request), who.name, monitor_id, body.window, end=body.end
        )
    )


@router.delete("/monitors/{monitor_id}/baseline", response_model=MonitorView)
async def clear_baseline(monitor_id: Number, request: Request, who: Writer) -> MonitorView:
    """Forget the kept baseline: the monitor compares with the version's again."""
    return await run_in_threadpool(
        pinning.clear_baseline, steward_of(request), who.name, monitor_id
    )


@router.get("/monitors/{monitor_id}/runs", response_model=list[RunResult])
async def list_runs(
    monitor_id: Number,
    request: Request,
    who: Reader,
    limit: Annotated[int, Query(ge=1, le=service.MAX_RUNS)] = 50,
) -> list[RunResult]:
    return await run_in_threadpool(service.list_runs, steward_of(request), monitor_id, limit)


@router.get("/deployments/{name}/metrics", response_model=list[PointView])
async def metric_points(
    name: str,
    request: Request,
    who: Reader,
    metric: Annotated[str | None, Query(max_length=64)] = None,
    column: Text = None,
    segment: Text = None,
    monitor: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_POINTS)] = 10_000,
) -> list[PointView]:
    """Points over time, oldest first: filter by metric, column, segment, monitor, time."""
    return await run_in_threadpool(
        lambda: service.metric_points(
            steward_of(request),
            name,
            metric=metric,
            column=column,
            segment=segment,
            monitor=monitor,
            since=since,
            until=until,
            limit=limit,
        )
    )
