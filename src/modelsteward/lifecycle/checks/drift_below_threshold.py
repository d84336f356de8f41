"""``drift_below_threshold``: the version's latest measured drift is within its thresholds.

A life cycle gate (e.g. re-validation) asks monitoring: across the deployments that
served this version, is the newest ``drift_share`` of every data and prediction drift
monitor below the share at which that monitor calls data set drift? Params:
``max_share`` (a ceiling of your own instead of each monitor's threshold) and
``monitors`` (limit to these monitor types; default both drift families). A version
with no drift measured yet fails: a gate never passes on a number nobody measured.
It lives with the other checks because the life cycle may read monitoring's points,
while monitoring never imports the life cycle.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from modelsteward.lifecycle.checks.registry import Check, CheckContext, CheckResult
from modelsteward.monitoring.tables import MetricPoint, Monitor
from modelsteward.store.tables import Deployment, Model

DriftFamily = Literal["data_drift", "prediction_drift"]


class DriftCheckParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_share: Annotated[float, Field(ge=0, le=1)] | None = None
    monitors: Annotated[tuple[DriftFamily, ...], Field(min_length=1)] = (
        "data_drift",
        "prediction_drift",
    )


def run(context: CheckContext, params: DriftCheckParams) -> CheckResult:
    version = context.version
    with context.steward.db.read() as session:
        newest = (
            select(MetricPoint.monitor_id, func.max(MetricPoint.id).label("last"))
            .join(Monitor, Monitor.id == MetricPoint.monitor_id)
            .join(Deployment, Deployment.id == Monitor.deployment_id)
            .join(Model, Model.id == Deployment.model_id)
            .where(
                Model.name == version.model,
                MetricPoint.version == version.version,
                MetricPoint.metric == "drift_share",
                MetricPoint.segment == "",
                Monitor.type.in_(params.monitors),
            )
            .group_by(MetricPoint.monitor_id)
            .subquery()
        )
        rows = session.execute(
            select(Deployment.name, Monitor.name, MetricPoint.value, MetricPoint.threshold)
            .join(newest, newest.c.last == MetricPoint.id)
            .join(Monitor, Monitor.id == MetricPoint.monitor_id)
            .join(Deployment, Deployment.id == Monitor.deployment_id)
            .order_by(Deployment.name, Monitor.name)
        ).all()
    measured = [(d, m, v, t) for d, m, v, t in rows if v is not None]
    if not measured:
        return CheckResult(
            False, f"no drift measured yet for {version.model} v{version.version}", {}
        )
    over = []
    for deployment, monitor, value, threshold in measured:
        # A monitor calls data set drift at its threshold share; ``max_share`` is a ceiling.
        if params.max_share is not None and value > params.max_share:
            over.append(f"{deployment} {monitor} drift share {value:.2f} > {params.max_share:.2f}")
        elif params.max_share is None and threshold is not None and value >= threshold:
            over.append(f"{deployment} {monitor} drift share {value:.2f} >= {threshold:.2f}")
    details = {
        "latest": [
            {"deployment": d, "monitor": m, "drift_share": v, "threshold": t}
            for d, m, v, t in measured
        ]
    }
    if over:
        return CheckResult(False, "; ".join(over), details)
    return CheckResult(True, f"drift within thresholds on {len(measured)} monitor(s)", details)


CHECK = Check(
    name="drift_below_threshold",
    description="The version's newest drift share on every drift monitor is within bounds.",
    params_model=DriftCheckParams,
    run=run,
)
