"""The ``data_drift`` and ``prediction_drift`` families: per column drift against the reference.

Data drift compares the window's input columns, prediction drift its output columns,
with the reference profile of ``families.reference``, by the methods of
``monitoring.drift`` (docs/drift.md has the default rule). A window big enough, with
``STEWARD_DASK_ADDRESS`` set, is summarised on Dask (``monitoring.families.drift.distributed``).
"""

from __future__ import annotations

from modelsteward.monitoring.drift import compare
from modelsteward.monitoring.families.base import Family, FamilyContext, FamilyResult, too_small
from modelsteward.monitoring.families.drift import distributed
from modelsteward.monitoring.families.drift.points import drift_points
from modelsteward.monitoring.families.reference import compared, open_window, reference_profile
from modelsteward.monitoring.specs import DataDriftSpec, DriftSpec, PredictionDriftSpec
from modelsteward.monitoring.windows.segments import segments
from modelsteward.profiles.dataset import DatasetProfile


def evaluate(spec: DriftSpec, ctx: FamilyContext) -> FamilyResult:
    in_parts = _in_parts(spec, ctx)
    if in_parts is not None:
        return in_parts
    opened = open_window(spec, ctx)
    result = opened.result
    if opened.profile is None:
        return result
    for segment, part in segments(opened.window, spec.segment_by):
        drift = compare(opened.profile, compared(spec, part), spec.drift_config())
        result.points += drift_points(drift, segment)
    return result


def _in_parts(spec: DriftSpec, ctx: FamilyContext) -> FamilyResult | None:
    """A big window summarised on Dask (``STEWARD_DASK_ADDRESS``); None: read it here."""

    def reference_for(number: int | None) -> tuple[DatasetProfile | None, str]:
        return reference_profile(spec, ctx.version(number), ctx.monitor.baseline)

    settings, now = ctx.steward.settings, ctx.now
    found = distributed.window_drift(settings, ctx.deployment, spec, now, reference_for)
    if found is None:
        return None
    if found.rows < spec.min_rows:
        return too_small(found.rows, spec, found.start)
    result = FamilyResult(found.rows, found.start, detail=found.detail, version=found.version)
    for segment, drift in found.results:
        result.points += drift_points(drift, segment)
    return result


DATA_DRIFT = Family(
    spec=DataDriftSpec,
    evaluate=evaluate,
    summary="drift of each input column from the reference, and the share that drifted",
)
PREDICTION_DRIFT = Family(
    spec=PredictionDriftSpec,
    evaluate=evaluate,
    summary="drift of each output column from the training predictions, and the share that drifted",
)
