"""Default rules: every monitor alerts from the start, without set-up.

``alerting.defaults`` hears ``monitor.created`` (the default monitors of a new
deployment included) and gives the monitor a rule ``<deployment>.<monitor>`` that fires
when the monitor's own thresholds judge a point breached. Severity follows what the
monitor watches: the model failing its callers or its labels is critical, the data
moving is a warning, exploratory views inform. They are ordinary rules afterwards:
edit, re-scope or disable them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelsteward.alerting.rules import create_rule
from modelsteward.errors import Conflict
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import Subscriber

if TYPE_CHECKING:
    from modelsteward.context import Steward

ACTOR = "system:alerting"
SEVERITY_BY_TYPE = {
    "operations": "critical",
    "performance": "critical",
    "data_quality": "warning",
    "data_drift": "warning",
    "prediction_drift": "warning",
    "estimated_performance": "warning",
    "business_kpi": "warning",
    "fairness": "warning",
}


def default_rule(deployment: str, monitor: str, monitor_type: str) -> dict[str, object]:
    return {
        "name": f"{deployment}.{monitor}"[:128],
        "description": f"The default rule of monitor {monitor!r}: its own thresholds decide.",
        "metric": "*",
        "monitor": monitor,
        "condition": "breached",
        "severity": SEVERITY_BY_TYPE.get(monitor_type, "info"),
        "scope": {"deployment": deployment},
    }


def on_monitor_created(steward: Steward, event: DomainEvent) -> None:
    payload = event.payload
    spec = payload.get("spec") or {}
    rule = default_rule(payload["deployment"], payload["name"], str(spec.get("type", "")))
    try:
        create_rule(steward, ACTOR, rule, origin="default")
    except Conflict:  # a redelivered event, or a rule of that name made by hand
        return


SUBSCRIBER = Subscriber(
    name="alerting.defaults",
    description="Gives each new monitor a default alert rule on its own thresholds.",
    events=frozenset({"monitor.created"}),
    handle=on_monitor_created,
)
