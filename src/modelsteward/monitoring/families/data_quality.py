"""The ``data_quality`` family: each input column's rates against the reference profile.

Per column: missing, type violation, out of range and unseen category rates; for the
window: duplicate rows and schema changes (``monitoring.quality`` computes them). The
reference is ``families.reference``'s; the default thresholds are ``DEFAULT_THRESHOLDS``.
"""

from __future__ import annotations

from modelsteward.monitoring.builtin_points import quality_points
from modelsteward.monitoring.families.base import Family, FamilyContext, FamilyResult
from modelsteward.monitoring.families.reference import open_window
from modelsteward.monitoring.segments import segments
from modelsteward.monitoring.specs import DataQualitySpec


def evaluate(spec: DataQualitySpec, ctx: FamilyContext) -> FamilyResult:
    opened = open_window(spec, ctx)
    result = opened.result
    if opened.profile is None:
        return result
    for segment, part in segments(opened.window, spec.segment_by):
        result.points += quality_points(spec, opened.profile, part.inputs, segment)
    return result


FAMILY = Family(
    spec=DataQualitySpec,
    evaluate=evaluate,
    summary="missing, type violation, out of range and unseen category rates per input "
    "column; duplicate rows and schema changes",
)
