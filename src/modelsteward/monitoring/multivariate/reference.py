"""Which multivariate baseline a monitor run compares with, and on which columns.

In order: a baseline an operator pinned to a window (``monitoring.pinning``); the
baseline fitted at registration, stored with the dominant version's
training data (``training_data["multivariate"]``, or inside its profile document,
``training_data["profile"]["multivariate"]``, which is where the SDK puts it because the
registry's training-data reference takes no other keys); else the one this monitor
captured from the first window it saw of that version; else this window is captured now
and later runs compare with it. Only the version's numeric input columns are used; a
column missing from the window, not numeric there or all missing there is named in a
note and left out, and the baseline is refitted on its stored sample without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.multivariate.baseline import MultivariateBaseline, fit_baseline
from modelsteward.monitoring.multivariate.matrix import numeric_names
from modelsteward.registry.specs import MAX_DOC_BYTES

if TYPE_CHECKING:
    from modelsteward.monitoring.families.base import FamilyContext
    from modelsteward.monitoring.windows import PredictionWindow
    from modelsteward.store.tables import ModelVersion

NUMERIC_TYPES = ("integer", "float")
FIRST_WINDOW = "first window seen"


@dataclass
class Reference:
    """The baseline to judge with (None: nothing to judge), where it came from, notes, and
    a newly captured baseline for the monitor to keep."""

    baseline: MultivariateBaseline | None
    source: str = ""
    notes: list[str] = field(default_factory=list)
    captured: dict[str, Any] | None = None


def stored_document(version: ModelVersion | None) -> dict[str, Any] | None:
    training = (version.training_data if version is not None else None) or {}
    found = training.get("multivariate") or (training.get("profile") or {}).get("multivariate")
    return found if isinstance(found, dict) else None


def _features(version: ModelVersion | None) -> set[str] | None:
    """The version's numeric input columns (None: no schema, every numeric column counts)."""
    columns = ((version.input_schema if version is not None else None) or {}).get("columns")
    if not columns:
        return None
    return {str(c["name"]) for c in columns if c.get("type") in NUMERIC_TYPES}


def _all_missing(inputs: pa.Table, name: str) -> bool:
    column = inputs.column(name)
    return column.null_count == len(column)


def _usable(
    columns: list[str],
    features: set[str] | None,
    inputs: pa.Table,
    numeric: set[str],
    number: int | None,
) -> tuple[list[str], list[str]]:
    """The baseline's columns this window can be judged on, and notes on the others."""
    wanted = [c for c in columns if features is None or c in features]
    notes = []
    if len(wanted) < len(columns):
        others = ", ".join(c for c in columns if c not in wanted)
        notes.append(f"not numeric inputs of v{number}, left out: {others}")
    absent = [c for c in wanted if c not in inputs.column_names]
    odd = [c for c in wanted if c not in absent and c not in numeric]
    empty = [c for c in wanted if c in numeric and _all_missing(inputs, c)]
    for what, names in (
        ("columns missing from the window", absent),
        ("columns not numeric in the window", odd),
        ("columns all missing in the window", empty),
    ):
        if names:
            notes.append(f"{what}, left out: {', '.join(names)}")
    return [c for c in wanted if c not in absent + odd + empty], notes


def resolve(ctx: FamilyContext, window: PredictionWindow, number: int | None) -> Reference:
    """The baseline for a window served mostly by version ``number`` (see the module)."""
    version = ctx.version(number)
    features = _features(version)
    numeric = set(numeric_names(window.inputs))
    stored, source = stored_document(version), f"training data of v{number}"
    kept = ctx.monitor.baseline or {}
    fitted = kept.get("baseline") if isinstance(kept.get("baseline"), dict) else None
    if fitted is not None and kept.get("pinned"):  # chosen by an operator
        stored, source = fitted, str(kept.get("source", ""))
    elif stored is None and fitted is not None and kept.get("version") == number:
        stored, source = fitted, FIRST_WINDOW
    if stored is None:
        return _capture(window, number, ctx, numeric, features)
    try:
        baseline = MultivariateBaseline.from_dict(stored)
    except InvalidInput as exc:
        return Reference(None, source, [exc.message])
    usable, notes = _usable(baseline.columns, features, window.inputs, numeric, number)
    if not usable:
        notes.append("none of the baseline's columns can be read from the window")
        return Reference(None, source, notes)
    if usable != baseline.columns:
        try:
            baseline = baseline.restricted(usable)
        except InvalidInput as exc:
            return Reference(None, source, [*notes, exc.message])
        notes.append(f"refitted on the baseline's {baseline.rows}-row sample for these columns")
    return Reference(baseline, source, notes)


def _capture(
    window: PredictionWindow,
    number: int | None,
    ctx: FamilyContext,
    numeric: set[str],
    features: set[str] | None,
) -> Reference:
    columns = [c for c in window.inputs.column_names if c in numeric]
    columns = [c for c in columns if features is None or c in features]
    try:
        baseline = fit_baseline(window.inputs, columns=columns, max_bytes=MAX_DOC_BYTES)
    except InvalidInput as exc:
        return Reference(None, FIRST_WINDOW, [f"could not capture a baseline: {exc.message}"])
    captured = {
        "source": FIRST_WINDOW,
        "version": number,
        "window_end": ctx.now.isoformat(),
        "rows": window.rows,
        "baseline": baseline.to_dict(),
    }
    note = "baseline captured from this window; later runs compare with it"
    return Reference(None, FIRST_WINDOW, [note], captured)


@dataclass
class Opened:
    """A run's window and the baseline to judge it with; ``result`` is already final when
    there is nothing to judge (too few rows, baseline just captured or unusable)."""

    window: PredictionWindow
    baseline: MultivariateBaseline | None
    result: Any  # FamilyResult


def open_window(spec: Any, ctx: FamilyContext) -> Opened:
    """Read the spec's window and resolve its baseline (the families' shared first step)."""
    from modelsteward.monitoring.families.base import FamilyResult, too_small
    from modelsteward.monitoring.windows.segments import dominant_version

    window = ctx.window(spec)
    if window.rows < spec.min_rows:
        return Opened(window, None, too_small(window.rows, spec, window.start))
    number = dominant_version(window)
    result = FamilyResult(window.rows, window.start, version=number)
    reference = resolve(ctx, window, number)
    result.detail = {
        "sampled": window.sampled,
        "total_rows": window.total_rows,
        "baseline": reference.source,
    }
    if reference.notes:
        result.detail["note"] = "; ".join(reference.notes)
    if reference.captured is not None:
        result.baseline, result.status = reference.captured, "baseline captured"
    elif reference.baseline is None:
        result.status = "not enough data"
    else:
        result.detail["columns"] = reference.baseline.columns
    return Opened(window, reference.baseline, result)
