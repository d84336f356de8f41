"""The ``operations`` family: latency, throughput, errors and resource use of the serving.

Request figures come from the prediction log (``traffic``), CPU, memory and GPU from
the serving processes' samples (``resources``); a window is counted in requests, not
rows, so ``segment_by`` does not apply.
"""

from __future__ import annotations

from modelsteward.monitoring.families.base import Family, FamilyContext, FamilyResult, too_small
from modelsteward.monitoring.families.operations.resources import resource_usage
from modelsteward.monitoring.families.operations.traffic import operations
from modelsteward.monitoring.points import judged
from modelsteward.monitoring.specs import DEFAULT_THRESHOLDS, OperationsSpec


def evaluate(spec: OperationsSpec, ctx: FamilyContext) -> FamilyResult:
    logs = ctx.steward.settings.logs_url
    estimates, requests, start = operations(
        logs,
        ctx.deployment,
        now=ctx.now,
        hours=spec.window.hours,
        last=spec.window.last,
        route=spec.route,
    )
    if requests < spec.min_rows:
        return too_small(requests, spec, start)
    estimates |= resource_usage(logs, start, ctx.now)
    points = judged(estimates, spec, "", DEFAULT_THRESHOLDS["operations"])
    return FamilyResult(requests, start, points)


FAMILY = Family(
    spec=OperationsSpec,
    evaluate=evaluate,
    summary="latency quantiles, throughput, error rate, CPU, memory and GPU of the serving",
)
