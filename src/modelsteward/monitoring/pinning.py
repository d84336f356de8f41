"""Baselines on demand: pin a monitor's reference to a chosen window of the log.

A drift monitor compares with the training data of the version it watches (or, without
one, the first window it saw). When the world has moved on for good (a new market, a
new data feed) an operator accepts the new normal: ``pin_baseline`` profiles a chosen
window of the deployment's log, as the monitor's family would (a ``DatasetProfile`` for
data quality and drift, a fitted multivariate baseline for multivariate drift and
outliers; with ``segment_by``, a drift monitor's segments each get their own), and keeps it
on the monitor marked ``pinned``. A pinned baseline comes before
the version's for every version until it is cleared (``clear_baseline``); both changes
are audited. Families that keep no reference (performance, operations, KPIs...) refuse.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.monitoring.families.drift.segmented import segment_profiles
from modelsteward.monitoring.families.registry import parse_spec
from modelsteward.monitoring.multivariate.baseline import fit_baseline
from modelsteward.monitoring.multivariate.matrix import numeric_names
from modelsteward.monitoring.service import _monitor
from modelsteward.monitoring.specs import Window
from modelsteward.monitoring.views import MonitorView
from modelsteward.monitoring.windows import read_window
from modelsteward.monitoring.windows.segments import dominant_version
from modelsteward.profiles.dataset import profile_dataset
from modelsteward.registry.specs import MAX_DOC_BYTES

PROFILED = {"data_quality", "data_drift", "prediction_drift"}
FITTED = {"multivariate_drift", "outliers"}


def pin_baseline(
    steward: Steward,
    actor: str,
    monitor_id: int,
    window: dict[str, Any],
    *,
    end: datetime | None = None,
) -> MonitorView:
    """Profile ``window`` (``{"hours": H}`` or ``{"last": N}``) ending at ``end`` (now)
    of the monitor's deployment, and keep it as the monitor's pinned baseline."""
    chosen = _window(window)
    end = end or datetime.now(UTC)
    if end.tzinfo is None:
        raise InvalidInput("end needs a time zone, e.g. 2024-05-01T12:00:00+00:00")
    with steward.db.read() as session:
        row, deployment = _monitor(session, monitor_id)
        spec = parse_spec(row.spec)
    if spec.type not in PROFILED | FITTED:
        kinds = ", ".join(sorted(PROFILED | FITTED))
        raise InvalidInput(f"{spec.type} monitors keep no baseline; these do: {kinds}")
    found = read_window(
        steward.settings.logs_url,
        deployment,
        now=end,
        hours=chosen.hours,
        last=chosen.last,
        route=spec.route,
        max_rows=spec.max_rows,
    )
    if found.rows < spec.min_rows:
        raise InvalidInput(
            f"the window holds {found.rows} predictions; this monitor needs at least "
            f"{spec.min_rows} to make a baseline"
        )
    baseline: dict[str, Any] = {
        "source": f"pinned by {actor}: {_described(chosen)} to {end.isoformat()}",
        "pinned": True,
        "version": dominant_version(found),
        "window_end": end.isoformat(),
        "rows": found.rows,
    }
    if spec.type in PROFILED:
        data = found.outputs if spec.type == "prediction_drift" else found.inputs
        baseline["profile"] = profile_dataset(data).to_dict()
        if spec.segment_by and spec.type != "data_quality":
            source = f"segments of the window {baseline['source']}"
            baseline["segments"] = segment_profiles(spec, found, baseline["version"], source)
    else:
        columns = [c for c in found.inputs.column_names if c in set(numeric_names(found.inputs))]
        fitted = fit_baseline(found.inputs, columns=columns, max_bytes=MAX_DOC_BYTES)
        baseline["baseline"] = fitted.to_dict()
    return _store(steward, actor, monitor_id, baseline, "monitor.baseline_pinned")


def clear_baseline(steward: Steward, actor: str, monitor_id: int) -> MonitorView:
    """Forget the monitor's kept baseline: it compares with the version's again."""
    return _store(steward, actor, monitor_id, None, "monitor.baseline_cleared")


def _store(
    steward: Steward, actor: str, monitor_id: int, baseline: dict[str, Any] | None, action: str
) -> MonitorView:
    with steward.change(actor) as change:
        row, deployment = _monitor(change.session, monitor_id, for_update=True)
        before = _summary(row.baseline)
        row.baseline = baseline
        row.updated_at = datetime.now(UTC)
        change.record(
            action,
            "monitor",
            row.id,
            before={"baseline": before},
            after={"deployment": deployment, "baseline": _summary(baseline)},
        )
        return MonitorView.of(row, deployment)


def _window(window: dict[str, Any]) -> Window:
    try:
        return Window.model_validate(window)
    except ValidationError as exc:
        raise InvalidInput(f"window: {exc.errors()[0]['msg']}") from None


def _described(window: Window) -> str:
    if window.last is not None:
        return f"the last {window.last} predictions"
    return f"{window.hours:g} hours"


def _summary(baseline: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the audit trail keeps of a baseline: where it came from, not its numbers."""
    if not baseline:
        return None
    return {k: baseline.get(k) for k in ("source", "version", "window_end", "rows")}
