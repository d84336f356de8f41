"""Backtest a rule before enabling it: replay the stored metric history through it.

The replay steps the same state machine as the live evaluation, run by run in the order
the monitors ran, and counts the alerts the rule would have opened and resolved and the
notifications the enabled channels would have sent for them (routing applied; silences
are left out, they are moments, not policy). The same history through the rule with
neither pending nor keep-firing is shown beside it, so the effect of both is a number.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from modelsteward.alerting.channels.routing import Routing
from modelsteward.alerting.channels.tables import Channel
from modelsteward.alerting.evaluation import Observation, TargetState, observe, step
from modelsteward.alerting.rules import spec_of
from modelsteward.alerting.specs import Pending, RuleSpec
from modelsteward.alerting.targets import DeploymentFacts, facts_of, target_key
from modelsteward.errors import InvalidInput
from modelsteward.monitoring.tables import MetricPoint, Monitor, MonitorRun
from modelsteward.store.tables import Deployment, as_utc

if TYPE_CHECKING:
    from modelsteward.context import Steward

MAX_DAYS = 366
MAX_RUNS = 200_000
EVENT = {"open": "alert.opened", "resolve": "alert.resolved"}


def backtest(steward: Steward, name: str, days: float = 30.0) -> dict[str, Any]:
    if not 0 < days <= MAX_DAYS:
        raise InvalidInput(f"days must be more than 0 and at most {MAX_DAYS}")
    _, spec = spec_of(steward, name)
    since = datetime.now(UTC) - timedelta(days=days)
    history, facts = _history(steward, spec, since)
    with steward.db.read() as session:
        routings = [
            Routing.model_validate(c.routing)
            for c in session.scalars(select(Channel).where(Channel.enabled.is_(True)))
        ]
    plain = spec.model_copy(update={"pending": Pending(), "keep_firing_windows": 0})
    result = _replay(spec, history, facts, routings)
    return {
        "rule": name,
        "days": days,
        "since": since.isoformat(),
        "runs": len({run_id for run_id, *_ in history}),
        "targets": len({key for _, key, *_ in history}),
        **result,
        "without_pending_or_keep_firing": {
            k: v for k, v in _replay(plain, history, facts, routings).items() if k != "timeline"
        },
    }


History = list[tuple[int, str, str, Observation, datetime]]


def _history(
    steward: Steward, spec: RuleSpec, since: datetime
) -> tuple[History, dict[str, DeploymentFacts]]:
    """(run id, target, deployment, observation, window end) in run order."""
    with steward.db.read() as session:
        monitors = session.execute(
            select(Monitor.id, Monitor.name, Deployment.name).join(
                Deployment, Deployment.id == Monitor.deployment_id
            )
        ).all()
        facts: dict[str, DeploymentFacts] = {}
        watched: dict[int, tuple[str, str]] = {}
        for monitor_id, monitor, deployment in monitors:
            if spec.monitor is not None and monitor != spec.monitor:
                continue
            known = facts.get(deployment) or facts_of(session, deployment)
            if known is None or not spec.scope.matches(known.as_scope()):
                continue
            facts[deployment] = known
            watched[monitor_id] = (monitor, deployment)
        if not watched:
            return [], facts
        runs = session.execute(
            select(MonitorRun.id, MonitorRun.monitor_id, MonitorRun.window_end)
            .where(MonitorRun.monitor_id.in_(watched), MonitorRun.window_end >= since)
            .order_by(MonitorRun.window_end, MonitorRun.id)
            .limit(MAX_RUNS)
        ).all()
        points: dict[int, list[MetricPoint]] = defaultdict(list)
        for point in session.scalars(
            select(MetricPoint).where(
                MetricPoint.monitor_id.in_(watched), MetricPoint.window_end >= since
            )
        ):
            points[point.run_id].append(point)
    history: History = []
    seen_targets: dict[int, set[str]] = defaultdict(set)
    for run_id, monitor_id, window_end in runs:
        monitor, deployment = watched[monitor_id]
        stored = points.get(run_id, [])
        if not stored:
            for key in seen_targets[monitor_id]:
                history.append((run_id, key, deployment, "no_data", as_utc(window_end)))
            continue
        for p in stored:
            if spec.watches(monitor, p.metric, p.column_name, p.segment):
                key = target_key(deployment, monitor, p.metric, p.column_name, p.segment)
                seen_targets[monitor_id].add(key)
                observation = observe(spec, p.status, p.value, (p.detail or {}).get("n"))
                history.append((run_id, key, deployment, observation, as_utc(window_end)))
    return history, facts


def _replay(
    spec: RuleSpec,
    history: History,
    facts: dict[str, DeploymentFacts],
    routings: list[Routing],
) -> dict[str, Any]:
    states: dict[str, TargetState] = {}
    opened = resolved = notifications = 0
    timeline: list[dict[str, str]] = []
    for _, key, deployment, observation, window_end in history:
        state, transition = step(spec, states.get(key, TargetState()), observation)
        states[key] = state
        if transition is None:
            continue
        if transition == "open":
            opened += 1
        else:
            resolved += 1
        known = facts[deployment]
        payload = {
            "model": known.model,
            "deployment": deployment,
            "severity": spec.severity,
            "rule": spec.name,
            "environment": known.environment,
            "labels": known.labels(spec.name, spec.severity, spec.labels),
        }
        sent = sum(1 for r in routings if r.routes(EVENT[transition], payload))
        notifications += sent
        if len(timeline) < 500:
            timeline.append(
                {"at": window_end.isoformat(), "target": key, "event": EVENT[transition]}
            )
    return {
        "alerts": opened,
        "resolved": resolved,
        "still_firing": sum(1 for s in states.values() if s.firing),
        "notifications": notifications,
        "timeline": timeline,
    }
