"""Segmented drift: each segment is compared with the same segment of its reference.

Comparing ``sex=M`` with the whole training population makes every feature that differs by
segment "drift" on clean traffic, and the segmenting column itself drift within its own
segments (it holds one value there). So a drift monitor with ``segment_by`` keeps one
profile per segment value beside its baseline (``baseline["segments"]``), never profiles
the segmenting column within them, and compares a segment only with its own:

- a pinned baseline profiles each segment of the pinned window (``monitoring.pinning``);
- otherwise the first window a run sees of the version is captured per segment, and later
  runs compare each segment with it (the whole window is still compared with the version's
  training data); a segment absent from the reference gets no points and is named in the
  run's detail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pyarrow as pa

from modelsteward.monitoring.specs import MonitorSpec
from modelsteward.monitoring.windows import PredictionWindow
from modelsteward.monitoring.windows.segments import segments
from modelsteward.profiles.dataset import SKETCH_BINS, DatasetProfile, profile_dataset

SEGMENTS_BUDGET = 1024 * 1024  # bytes of JSON for all segment profiles of one monitor
BYTES_PER_SKETCH_BIN = 60
MIN_BINS = 20


def side(spec: MonitorSpec, window: PredictionWindow) -> pa.Table:
    """What a segment compares: its outputs for prediction drift, else its inputs without
    the segmenting column (constant within a segment)."""
    if spec.type == "prediction_drift":
        return window.outputs
    keep = [n for n in window.inputs.column_names if n != spec.segment_by]
    return window.inputs.select(keep)


def segment_profiles(
    spec: MonitorSpec, window: PredictionWindow, version: int | None, source: str
) -> dict[str, Any]:
    """Each segment of ``window`` profiled, as ``baseline["segments"]`` keeps them."""
    parts = [(label, side(spec, part)) for label, part in segments(window, spec.segment_by)[1:]]
    columns = max(1, sum(len(t.column_names) for _, t in parts))
    bins = max(MIN_BINS, min(SKETCH_BINS, SEGMENTS_BUDGET // columns // BYTES_PER_SKETCH_BIN))
    return {
        "column": spec.segment_by,
        "version": version,
        "source": source,
        "profiles": {label: profile_dataset(t, bins=bins).to_dict() for label, t in parts},
    }


def segment_references(
    spec: MonitorSpec, baseline: dict[str, Any] | None, version: int | None
) -> dict[str, DatasetProfile] | None:
    """The kept profile of each segment, or None when there are none for this spec's column
    and version yet (a pinned baseline's serve every version)."""
    kept = (baseline or {}).get("segments")
    if not isinstance(kept, dict) or kept.get("column") != spec.segment_by:
        return None
    pinned = bool((baseline or {}).get("pinned"))
    if not pinned and kept.get("version") != version:
        return None
    profiles = kept.get("profiles")
    if not isinstance(profiles, dict):
        return None
    return {str(label): DatasetProfile.from_dict(p) for label, p in profiles.items()}


def with_segments(
    baseline: dict[str, Any] | None,
    spec: MonitorSpec,
    window: PredictionWindow,
    version: int | None,
    now: datetime,
) -> dict[str, Any]:
    """The monitor's baseline with this window captured as its segments' reference."""
    source = f"segments of the first window seen of v{version}, to {now.isoformat()}"
    return {**(baseline or {}), "segments": segment_profiles(spec, window, version, source)}


def unmatched(labels: Iterable[str], references: dict[str, DatasetProfile]) -> list[str]:
    """The segments of a window that their reference never had."""
    return [label for label in labels if label and label not in references]
