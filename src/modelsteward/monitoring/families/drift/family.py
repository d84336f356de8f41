"""The ``data_drift`` and ``prediction_drift`` families: per column drift against the reference.

Data drift compares the window's input columns, prediction drift its output columns,
with the reference profile of ``families.reference``, by the methods of
``monitoring.drift`` (docs/drift.md has the default rule). A window big enough, with
``STEWARD_DASK_ADDRESS`` set, is summarised on Dask (``monitoring.families.drift.distributed``).
With ``segment_by``, each segment is compared with the same segment of its reference
(``segmented``), never with the whole population.
"""

from __future__ import annotations

from modelsteward.monitoring.drift import DriftConfig, compare
from modelsteward.monitoring.families.base import Family, FamilyContext, FamilyResult, too_small
from modelsteward.monitoring.families.drift import distributed
from modelsteward.monitoring.families.drift.points import drift_points
from modelsteward.monitoring.families.drift.segmented import (
    segment_references,
    side,
    unmatched,
    with_segments,
)
from modelsteward.monitoring.families.reference import (
    Opened,
    compared,
    open_window,
    reference_profile,
)
from modelsteward.monitoring.specs import DataDriftSpec, DriftSpec, PredictionDriftSpec
from modelsteward.monitoring.windows import PredictionWindow
from modelsteward.monitoring.windows.segments import segments
from modelsteward.profiles.dataset import DatasetProfile

CAPTURED = "segments captured from this window; later runs compare each with its own"


def evaluate(spec: DriftSpec, ctx: FamilyContext) -> FamilyResult:
    in_parts = _in_parts(spec, ctx)
    if in_parts is not None:
        return in_parts
    opened = open_window(spec, ctx)
    result = opened.result
    parts = segments(opened.window, spec.segment_by)[1:]
    if opened.profile is None:
        if parts and result.baseline is not None:
            result.baseline = with_segments(
                result.baseline, spec, opened.window, result.version, ctx.now
            )
        return result
    config = spec.drift_config()
    result.points += drift_points(compare(opened.profile, compared(spec, opened.window), config))
    if parts:
        _segment_points(spec, ctx, opened, parts, config)
    return result


def _segment_points(
    spec: DriftSpec,
    ctx: FamilyContext,
    opened: Opened,
    parts: list[tuple[str, PredictionWindow]],
    config: DriftConfig,
) -> None:
    """Each segment against the same segment of its reference (``segmented``)."""
    result = opened.result
    references = segment_references(spec, ctx.monitor.baseline, result.version)
    if references is None:
        result.baseline = with_segments(
            ctx.monitor.baseline, spec, opened.window, result.version, ctx.now
        )
        result.detail["segments"] = CAPTURED
        return
    for label, part in parts:
        if label in references:
            drift = compare(references[label], side(spec, part), config)
            result.points += drift_points(drift, label)
    missing = unmatched((label for label, _ in parts), references)
    if missing:
        result.detail["segments_without_reference"] = missing


def _in_parts(spec: DriftSpec, ctx: FamilyContext) -> FamilyResult | None:
    """A big window summarised on Dask (``STEWARD_DASK_ADDRESS``); None: read it here."""

    def reference_for(number: int | None) -> tuple[DatasetProfile | None, str]:
        return reference_profile(spec, ctx.version(number), ctx.monitor.baseline)

    def segments_for(number: int | None) -> dict[str, DatasetProfile] | None:
        return segment_references(spec, ctx.monitor.baseline, number)

    settings, now = ctx.steward.settings, ctx.now
    found = distributed.window_drift(
        settings, ctx.deployment, spec, now, reference_for, segments_for=segments_for
    )
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
