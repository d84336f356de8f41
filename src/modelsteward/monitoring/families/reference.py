"""The profile a data quality or drift run compares with, and where it came from.

In order: a profile an operator pinned to a window (``monitoring.pinning``); for
prediction drift, the training predictions' profile stored with the dominant version
(``monitoring.families.drift.prediction_baseline``), for the other two the version's training-data
profile, kept to its input columns; else the profile this monitor captured from the
first window it saw of that version; else this window is captured now and later runs
compare with it (see docs/monitoring.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from modelsteward.monitoring.families.base import FamilyContext, FamilyResult, too_small
from modelsteward.monitoring.specs import MonitorSpec
from modelsteward.monitoring.windows import PredictionWindow
from modelsteward.monitoring.windows.segments import dominant_version
from modelsteward.profiles.dataset import DatasetProfile, profile_dataset
from modelsteward.store.tables import ModelVersion


@dataclass
class Opened:
    """A run's window and its reference profile; ``result`` is returned as it is when
    ``profile`` is None (too few rows, or the reference was captured from this window)."""

    window: PredictionWindow
    profile: DatasetProfile | None
    result: FamilyResult


def compared(spec: MonitorSpec, window: PredictionWindow) -> pa.Table:
    """The side of the window the family compares: outputs for prediction drift."""
    return window.outputs if spec.type == "prediction_drift" else window.inputs


def open_window(spec: MonitorSpec, ctx: FamilyContext) -> Opened:
    """Read the spec's window and resolve its reference (both families' first step)."""
    window = ctx.window(spec)
    if window.rows < spec.min_rows:
        return Opened(window, None, too_small(window.rows, spec, window.start))
    number = dominant_version(window)
    detail: dict[str, Any] = {"sampled": window.sampled, "total_rows": window.total_rows}
    result = FamilyResult(window.rows, window.start, detail=detail, version=number)
    profile, source = reference_profile(spec, ctx.version(number), ctx.monitor.baseline)
    if profile is None:
        result.baseline = captured(spec, window, number, ctx.now)
        detail["baseline"] = "captured from this window; later runs compare with it"
    else:
        detail["baseline"] = source
    return Opened(window, profile, result)


def reference_profile(
    spec: MonitorSpec, version: ModelVersion | None, baseline: dict[str, Any] | None
) -> tuple[DatasetProfile | None, str]:
    """The profile to compare with, and where it came from (None: capture this window)."""
    if baseline and baseline.get("pinned") and isinstance(baseline.get("profile"), dict):
        return DatasetProfile.from_dict(baseline["profile"]), str(baseline.get("source", ""))
    if version is not None and spec.type == "prediction_drift":
        stored = (version.meta or {}).get("prediction_profile")
        if isinstance(stored, dict):
            return DatasetProfile.from_dict(stored), f"training predictions of v{version.version}"
    elif version is not None:
        stored = (version.training_data or {}).get("profile")
        if isinstance(stored, dict):
            profile = DatasetProfile.from_dict(stored)
            features = [c["name"] for c in (version.input_schema or {}).get("columns", [])]
            if features:  # the training data may hold the target too: keep the features
                kept = {n: c for n, c in profile.columns.items() if n in features}
                profile = DatasetProfile(profile.rows, kept)
            return profile, f"training data of v{version.version}"
    number = version.version if version is not None else None
    if baseline and baseline.get("version") == number and isinstance(baseline.get("profile"), dict):
        return DatasetProfile.from_dict(baseline["profile"]), "first window seen"
    return None, ""


def captured(
    spec: MonitorSpec, window: PredictionWindow, version: int | None, now: datetime
) -> dict[str, Any]:
    """The baseline kept on the monitor when a run captures its window as the reference."""
    return {
        "source": "first window seen",
        "version": version,
        "window_end": now.isoformat(),
        "rows": window.rows,
        "profile": profile_dataset(compared(spec, window)).to_dict(),
    }
