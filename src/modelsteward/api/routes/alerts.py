"""/api/v1/alerts, /api/v1/alert-rules and /api/v1/silences: alerts and what raises
and mutes them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request

from modelsteward.alerting import alerts, backtest, rules, silences
from modelsteward.api.policy import allow, steward_of
from modelsteward.identity.roles import Permission
from modelsteward.identity.users import Principal

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
rules_router = APIRouter(prefix="/api/v1/alert-rules", tags=["alerts"])
silences_router = APIRouter(prefix="/api/v1/silences", tags=["alerts"])

Reader = Annotated[Principal, Depends(allow(Permission.ALERTS_READ))]
Handler = Annotated[Principal, Depends(allow(Permission.ALERTS_HANDLE))]
RuleManager = Annotated[Principal, Depends(allow(Permission.ALERT_RULES_MANAGE))]
AlertId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SilenceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Name = Annotated[str, Path(max_length=128)]
Document = Annotated[dict[str, Any], Body()]
Filter = Annotated[str | None, Query(max_length=128)]


@router.get("")
def list_alerts(
    request: Request,
    who: Reader,
    state: Annotated[str, Query(max_length=16)] = "open",
    severity: Annotated[str | None, Query(max_length=16)] = None,
    model: Filter = None,
    deployment: Filter = None,
    rule: Filter = None,
    limit: Annotated[int, Query(ge=1, le=alerts.MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[dict[str, Any]]:
    """Open alerts by default; ``state`` firing, acknowledged, resolved or all."""
    return alerts.list_alerts(
        steward_of(request),
        state=state,
        severity=severity,
        model=model,
        deployment=deployment,
        rule=rule,
        limit=limit,
        offset=offset,
    )


@router.get("/counts")
def counts(request: Request, who: Reader) -> dict[str, int]:
    """Open alerts per severity."""
    return alerts.counts_by_severity(steward_of(request))


@router.get("/{alert_id}")
def show(request: Request, who: Reader, alert_id: AlertId) -> dict[str, Any]:
    return alerts.get_alert(steward_of(request), alert_id)


@router.post("/{alert_id}/ack")
def acknowledge(
    request: Request, who: Handler, alert_id: AlertId, body: Document | None = None
) -> dict[str, Any]:
    reason = str((body or {}).get("reason") or "")
    return alerts.acknowledge(steward_of(request), who.name, alert_id, reason)


@router.post("/{alert_id}/resolve")
def resolve(request: Request, who: Handler, alert_id: AlertId, body: Document) -> dict[str, Any]:
    return alerts.resolve(steward_of(request), who.name, alert_id, str(body.get("reason") or ""))


@rules_router.get("")
def list_rules(request: Request, who: Reader, deployment: Filter = None) -> list[dict[str, Any]]:
    return rules.list_rules(steward_of(request), deployment=deployment)


@rules_router.post("", status_code=201)
def create_rule(request: Request, who: RuleManager, body: Document) -> dict[str, Any]:
    return rules.create_rule(steward_of(request), who.name, body)


@rules_router.get("/{name}")
def show_rule(request: Request, who: Reader, name: Name) -> dict[str, Any]:
    return rules.get_rule(steward_of(request), name)


@rules_router.patch("/{name}")
def update_rule(request: Request, who: RuleManager, name: Name, body: Document) -> dict[str, Any]:
    return rules.update_rule(steward_of(request), who.name, name, body)


@rules_router.delete("/{name}", status_code=204)
def delete_rule(request: Request, who: RuleManager, name: Name) -> None:
    rules.delete_rule(steward_of(request), who.name, name)


@rules_router.get("/{name}/backtest")
def backtest_rule(
    request: Request,
    who: Reader,
    name: Name,
    days: Annotated[float, Query(gt=0, le=backtest.MAX_DAYS)] = 30.0,
) -> dict[str, Any]:
    """What the rule would have done over the stored history of the last ``days``."""
    return backtest.backtest(steward_of(request), name, days)


@silences_router.get("")
def list_silences(
    request: Request, who: Reader, ended: Annotated[bool, Query()] = False
) -> list[dict[str, Any]]:
    return silences.list_silences(steward_of(request), include_ended=ended)


@silences_router.post("", status_code=201)
def create_silence(request: Request, who: Handler, body: Document) -> dict[str, Any]:
    return silences.create_silence(steward_of(request), who.name, body)


@silences_router.delete("/{silence_id}")
def expire_silence(request: Request, who: Handler, silence_id: SilenceId) -> dict[str, Any]:
    return silences.expire_silence(steward_of(request), who.name, silence_id)
