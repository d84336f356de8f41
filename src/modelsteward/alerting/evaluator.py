"""The live evaluation: every stored monitor run steps the rules that watch its points.

``alerting.evaluation`` hears ``monitor.ran`` once per cluster (through the outbox, so a
run stored just before a crash is still evaluated) and, in one change, steps each
matching rule's state per target and opens or resolves alerts. A state remembers the
last run it saw, so a redelivered event changes nothing. A run without points (not
enough data, failed) is a no-data window for every target the rule knew on that
monitor.

Inhibition: a drift alert on a feature opened while a data-quality alert (or breach in
the same window) stands on that feature of the deployment is opened muted, with the
cause named: people see the cause, not three symptoms.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.alerting.alerts import OPEN, close_alert, open_alert
from modelsteward.alerting.evaluation import Observation, TargetState, observe, step
from modelsteward.alerting.silences import silencing
from modelsteward.alerting.specs import RuleSpec
from modelsteward.alerting.tables import Alert, AlertRule, AlertState
from modelsteward.alerting.targets import DeploymentFacts, facts_of, target_key
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import Subscriber
from modelsteward.monitoring.events import MonitorRan
from modelsteward.monitoring.tables import MetricPoint, Monitor

if TYPE_CHECKING:
    from modelsteward.context import Change, Steward

ACTOR = "system:alerting"
INHIBITED_TYPES = frozenset({"data_drift"})
INHIBITING_TYPE = "data_quality"


def evaluate_run(steward: Steward, event: DomainEvent) -> None:
    ran = MonitorRan.model_validate(event.payload)
    with steward.change(ACTOR) as change:
        session = change.session
        facts = facts_of(session, ran.deployment)
        if facts is None:  # the deployment is gone
            return
        rules = [
            (row, RuleSpec.model_validate(row.spec))
            for row in session.scalars(
                select(AlertRule).where(AlertRule.enabled.is_(True)).order_by(AlertRule.id)
            )
        ]
        rules = [(r, s) for r, s in rules if s.scope.matches(facts.as_scope())]
        if not rules:
            return
        points = session.scalars(
            select(MetricPoint).where(MetricPoint.run_id == ran.run_id).order_by(MetricPoint.id)
        ).all()
        for row, spec in rules:
            _evaluate_rule(change, row, spec, ran, facts, points)


def _evaluate_rule(
    change: Change,
    row: AlertRule,
    spec: RuleSpec,
    ran: MonitorRan,
    facts: DeploymentFacts,
    points: Sequence[MetricPoint],
) -> None:
    session = change.session
    seen: dict[str, tuple[Observation, MetricPoint | None]] = {}
    for point in points:
        if spec.watches(ran.monitor, point.metric, point.column_name, point.segment):
            key = target_key(
                ran.deployment, ran.monitor, point.metric, point.column_name, point.segment
            )
            n = (point.detail or {}).get("n")
            seen[key] = (observe(spec, point.status, point.value, n), point)
    if not points:
        prefix = f"{ran.deployment}|{ran.monitor}|"
        known = session.scalars(
            select(AlertState.target).where(
                AlertState.rule_id == row.id, AlertState.target.startswith(prefix)
            )
        )
        seen = {target: ("no_data", None) for target in known}
    for target, (observation, found) in seen.items():
        state = session.scalar(
            select(AlertState)
            .where(AlertState.rule_id == row.id, AlertState.target == target)
            .with_for_update()
        )
        if state is None:
            state = AlertState(rule_id=row.id, target=target, recent=[], firing=False)
            state.ok_streak, state.last_run_id = 0, 0
            session.add(state)
        if state.last_run_id >= ran.run_id:
            continue  # this run was evaluated already (a redelivered event)
        before = TargetState(tuple(state.recent or ()), state.firing, state.ok_streak)
        after, transition = step(spec, before, observation)
        state.recent, state.firing, state.ok_streak = (
            list(after.recent),
            after.firing,
            after.ok_streak,
        )
        state.last_run_id, state.updated_at = ran.run_id, datetime.now(UTC)
        if transition == "open":
            opening = _opening(session, row, spec, ran, facts, target, found, observation)
            state.alert_id = open_alert(change, opening).id
        elif transition == "resolve" and state.alert_id is not None:
            standing = session.get(Alert, state.alert_id)
            if standing is not None and standing.state in OPEN:
                windows = spec.keep_firing_windows + 1
                close_alert(change, standing, None, f"recovered: {windows} ok window(s) in a row")
            state.alert_id = None
        session.flush()


def _opening(
    session: Session,
    row: AlertRule,
    spec: RuleSpec,
    ran: MonitorRan,
    facts: DeploymentFacts,
    target: str,
    point: MetricPoint | None,
    observation: Observation,
) -> Alert:
    _, _, metric, column, segment = target.split("|", 4)
    labels = facts.labels(row.name, spec.severity, spec.labels)
    now = datetime.now(UTC)
    silence = silencing(session, labels, now)
    suppressed = f"silence {silence}" if silence is not None else None
    if suppressed is None and ran.type in INHIBITED_TYPES and column:
        suppressed = _inhibitor(session, ran.deployment, column, point)
    value = point.value if point is not None else None
    return Alert(
        rule_id=row.id,
        rule=row.name,
        open_key=f"{row.id}|{target}"[:700],
        severity=spec.severity,
        state="firing",
        model=facts.model,
        deployment=ran.deployment,
        environment=facts.environment,
        version=point.version if point is not None else None,
        monitor=ran.monitor,
        monitor_type=ran.type,
        metric=metric,
        column_name=column,
        segment=segment,
        value=value,
        threshold=spec.threshold if spec.condition in ("above", "below") else _of(point),
        low=spec.low if spec.condition == "outside" else (point.low if point else None),
        high=spec.high if spec.condition == "outside" else (point.high if point else None),
        window_end=datetime.fromisoformat(ran.window_end),
        summary=_summary(spec, ran, metric, column, segment, value, observation),
        labels=labels,
        suppressed_by=suppressed,
        opened_at=now,
        reason="",
    )


def _of(point: MetricPoint | None) -> float | None:
    return point.threshold if point is not None else None


def _summary(
    spec: RuleSpec,
    ran: MonitorRan,
    metric: str,
    column: str,
    segment: str,
    value: float | None,
    observation: Observation,
) -> str:
    where = " of ".join(p for p in (metric, column) if p)
    if segment:
        where += f" [{segment}]"
    if observation == "no_data":
        return f"{ran.deployment}: no data for {where} ({ran.monitor})"
    shown = "no value" if value is None else f"{value:.4g}"
    if spec.condition == "above":
        bound = f"above {spec.threshold:.4g}"
    elif spec.condition == "below":
        bound = f"below {spec.threshold:.4g}"
    elif spec.condition == "outside":
        bound = f"outside {spec.low:.4g}..{spec.high:.4g}"
    else:
        bound = "breached its monitor threshold"
    pending = spec.pending
    held = (
        f" in {pending.breaches} of {pending.of_windows} windows" if pending.of_windows > 1 else ""
    )
    return f"{ran.deployment}: {where} is {shown}, {bound}{held} ({ran.monitor})"


def _inhibitor(
    session: Session, deployment: str, column: str, point: MetricPoint | None
) -> str | None:
    """Why a drift alert on ``column`` is muted: the data-quality problem behind it."""
    quality = session.scalar(
        select(Alert.id).where(
            Alert.deployment == deployment,
            Alert.column_name == column,
            Alert.monitor_type == INHIBITING_TYPE,
            Alert.state.in_(OPEN),
        )
    )
    if quality is not None:
        return f"inhibited by alert {quality}"
    if point is None:
        return None
    breached = session.scalar(
        select(MetricPoint.id)
        .join(Monitor, Monitor.id == MetricPoint.monitor_id)
        .where(
            Monitor.type == INHIBITING_TYPE,
            Monitor.deployment_id
            == select(Monitor.deployment_id)
            .where(Monitor.id == point.monitor_id)
            .scalar_subquery(),
            MetricPoint.column_name == column,
            MetricPoint.window_end == point.window_end,
            MetricPoint.status == "breached",
        )
        .limit(1)
    )
    return f"inhibited by data quality of {column} in the same window" if breached else None


SUBSCRIBER = Subscriber(
    name="alerting.evaluation",
    description="Steps the alert rules that watch a stored monitor run; opens and resolves alerts.",
    events=frozenset({"monitor.ran"}),
    handle=evaluate_run,
    timeout_s=120.0,
)
