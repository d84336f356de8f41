"""Every monitor family, keyed by its spec's ``type``: the allow-list stored specs resolve through.

The built-ins are listed here, explicitly; nothing registers itself when imported. A
monitor's spec is JSON in the database: ``parse_spec`` turns it back into the class of
the family its ``type`` names (never an import path read from storage), and the runner
evaluates it with that family's ``evaluate``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.families import multivariate_drift, outliers
from modelsteward.monitoring.families.base import Family
from modelsteward.monitoring.families.business_kpi import family as business_kpi
from modelsteward.monitoring.families.champion_challenger import family as champion_challenger
from modelsteward.monitoring.families.data_quality import family as data_quality
from modelsteward.monitoring.families.drift import family as drift
from modelsteward.monitoring.families.estimated_performance import family as estimated_performance
from modelsteward.monitoring.families.fairness import family as fairness
from modelsteward.monitoring.families.operations import family as operations
from modelsteward.monitoring.families.performance import family as performance
from modelsteward.monitoring.specs import MonitorSpec

BUILT_IN: tuple[Family, ...] = (
    data_quality.FAMILY,
    drift.DATA_DRIFT,
    drift.PREDICTION_DRIFT,
    performance.FAMILY,
    operations.FAMILY,
    business_kpi.FAMILY,
    champion_challenger.FAMILY,
    estimated_performance.FAMILY,
    fairness.FAMILY,
    multivariate_drift.FAMILY,
    outliers.FAMILY,
)


def _keyed(families: tuple[Family, ...]) -> dict[str, Family]:
    keyed: dict[str, Family] = {}
    for family in families:
        kind = family.spec.model_fields["type"].default
        if not isinstance(kind, str) or not family.spec.metrics:
            raise TypeError(f"{family.spec.__name__} needs a literal 'type' default and 'metrics'")
        if kind in keyed:
            raise TypeError(f"two monitor families are named {kind!r}")
        keyed[kind] = family
    return keyed


FAMILIES: dict[str, Family] = _keyed(BUILT_IN)


def parse_spec(data: Any) -> MonitorSpec:
    """A stored or submitted spec as its family's class; InvalidInput names the first error."""
    if not isinstance(data, dict):
        raise InvalidInput("a monitor spec must be an object")
    kind = data.get("type")
    if kind not in FAMILIES:
        raise InvalidInput(f"monitor type must be one of {', '.join(FAMILIES)}")
    try:
        return FAMILIES[kind].spec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"monitor spec: {where + ': ' if where else ''}{message}") from None


def with_changes(spec: MonitorSpec, changes: dict[str, Any]) -> MonitorSpec:
    """The spec with top-level fields replaced, validated as a whole; the type never changes."""
    if "type" in changes and changes["type"] != spec.type:
        raise InvalidInput("a monitor's type cannot change; create another monitor")
    return parse_spec({**spec.model_dump(mode="json"), **changes})
