"""Comparing a current data set with a reference, column by column.

Exact mode (both sides raw) sorts each numeric column once per side and hands the sorted
arrays to every method. Profile mode (the reference is a ``DatasetProfile``) reads the
current data batch by batch into a ``WindowState``, so memory stays bounded by one batch
however large the window, and the reference data is never needed again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.drift.base import DriftMethod, Score
from modelsteward.monitoring.drift.config import DriftConfig
from modelsteward.monitoring.drift.registry import METHODS
from modelsteward.monitoring.drift.result import ColumnDrift, DriftResult, Status, summarise
from modelsteward.monitoring.drift.samples import ExactNumeric, SketchNumeric, aligned_counts
from modelsteward.monitoring.drift.window import (
    CurrentColumn,
    WindowState,
    state_from_profile,
    summarise_batches,
)
from modelsteward.profiles import columns as read
from modelsteward.profiles.dataset import (
    ColumnProfile,
    DatasetProfile,
    profile_categorical,
    profile_dataset,
    profile_sorted,
)

Progress = Callable[[str], None]
Scorer = Callable[[DriftMethod], Score]


def plan(ref_names: Iterable[str], cur_names: Iterable[str], config: DriftConfig) -> list[str]:
    """The columns to judge: the configured ones, else the reference's then new ones."""
    if config.columns is not None:
        return list(config.columns)
    ordered = list(ref_names)
    seen = set(ordered)
    return ordered + [n for n in cur_names if n not in seen]


def verdict(
    name: str,
    kind: str,
    ref_usable: int,
    current: CurrentColumn,
    config: DriftConfig,
    compute: Scorer,
) -> ColumnDrift:
    """Status rules first (no data, all missing, too few rows), then the method's call."""
    method_name = config.method_for(name, kind, ref_usable)
    method = METHODS[method_name]
    if not method.applies_to(kind):
        raise InvalidInput(f"drift method {method_name} does not apply to {kind} column {name!r}")
    threshold = config.threshold_for(name, method_name)
    usable = current.usable

    def no_verdict(status: Status) -> ColumnDrift:
        return ColumnDrift(
            name, kind, method_name, None, None, threshold, None, status, ref_usable, usable
        )

    if current.rows == 0:
        return no_verdict("not enough data")
    if usable == 0 and current.invalid > 0:
        return no_verdict("type mismatch")
    if ref_usable == 0 or usable == 0:
        return no_verdict("all missing")
    if min(ref_usable, usable) < config.min_rows:
        return no_verdict("not enough data")
    score = compute(method)
    drifted = method.drifted(score, threshold)
    return ColumnDrift(
        name,
        kind,
        method_name,
        score.statistic,
        score.p_value,
        threshold,
        drifted,
        "drift" if drifted else "ok",
        ref_usable,
        usable,
        max(score.statistic - score.noise, 0.0),
        score.statistic + score.noise,
    )


def absent(
    name: str, kind: str, ref_usable: int, cur_usable: int, status: Status, config: DriftConfig
) -> ColumnDrift:
    method = config.method_for(name, kind, ref_usable)
    threshold = config.threshold_for(name, method)
    return ColumnDrift(
        name, kind, method, None, None, threshold, None, status, ref_usable, cur_usable
    )


def _categorical_score(
    method: DriftMethod, ref: dict[str, int], cur: dict[str, int], other: int
) -> Score:
    _names, r, c = aligned_counts(ref, cur, ref_other=other)
    if method.categorical is None:
        raise InvalidInput(f"drift method {method.name} does not apply to categorical columns")
    return method.categorical(r, c)


def _numeric_score(method: DriftMethod, pair: ExactNumeric | SketchNumeric, bins: int) -> Score:
    if method.numeric is None:
        raise InvalidInput(f"drift method {method.name} does not apply to numeric columns")
    return method.numeric(pair, bins)


def _sketch_scorer(ref: ColumnProfile, cur: CurrentColumn, config: DriftConfig) -> Scorer:
    if ref.kind == "numeric":
        if cur.numeric is None:
            raise InvalidInput(f"column {ref.name!r} has no numeric summary")
        pair = SketchNumeric(ref, cur.numeric)
        return functools.partial(_numeric_score, pair=pair, bins=config.bins)
    return functools.partial(
        _categorical_score, ref=dict(ref.frequencies), cur=cur.counts, other=ref.other
    )


def drift_from_state(
    reference: DatasetProfile,
    state: WindowState,
    config: DriftConfig,
    progress: Progress | None = None,
) -> DriftResult:
    """Profile mode: the reference's sketches against a summarised current window."""
    results = []
    for name in plan(reference.columns, state.kinds, config):
        if progress:
            progress(name)
        ref = reference.columns.get(name)
        current = state.columns.get(name)
        if ref is None:
            kind = state.kinds.get(name, "categorical")
            usable = current.usable if current else 0
            status: Status = "new column" if current else "column missing"
            results.append(absent(name, kind, 0, usable, status, config))
        elif current is None:
            results.append(absent(name, ref.kind, ref.count, 0, "column missing", config))
        else:
            scorer = _sketch_scorer(ref, current, config)
            results.append(verdict(name, ref.kind, ref.count, current, config, scorer))
    return summarise(results, config.share_threshold, "profile")


@dataclass(frozen=True)
class ExactPass:
    """Exact drift, plus what else the same sorts gave: the reference's profile and the
    current window's summary (for quality and distributions)."""

    drift: DriftResult
    reference: DatasetProfile
    state: WindowState


def exact_pass(
    reference: read.Data,
    current: read.Data,
    config: DriftConfig,
    progress: Progress | None = None,
) -> ExactPass:
    """Both sides raw: each numeric column is sorted once per side, then shared."""
    ref_names, cur_names = read.column_names(reference), read.column_names(current)
    ref_rows, cur_rows = read.row_count(reference), read.row_count(current)
    state = WindowState(rows=cur_rows, kinds={n: read.kind_of(current, n) for n in cur_names})
    profiles: dict[str, ColumnProfile] = {}
    results = []
    for name in plan(ref_names, cur_names, config):
        if progress:
            progress(name)
        if name not in ref_names:
            kind = state.kinds.get(name, "categorical")
            status: Status = "new column" if name in cur_names else "column missing"
            results.append(absent(name, kind, 0, 0, status, config))
            continue
        kind = read.kind_of(reference, name)
        column = CurrentColumn()
        scorer: Scorer
        if kind == "numeric":
            ref_col = read.numeric(reference, name)
            ordered = np.sort(ref_col.values)
            ref = profile_sorted(name, ordered, missing=ref_col.missing, invalid=ref_col.invalid)
            if name in cur_names:
                cur_col = read.numeric(current, name)
                cur_sorted = np.sort(cur_col.values)
                column.add_numeric(ref, cur_sorted, cur_rows, cur_col.missing, cur_col.invalid)
                pair = ExactNumeric(ordered, cur_sorted, ref)
                scorer = functools.partial(_numeric_score, pair=pair, bins=config.bins)
        else:
            ref_cat = read.categorical(reference, name)
            ref = profile_categorical(name, ref_cat.counts, missing=ref_cat.missing, cap=10**9)
            if name in cur_names:
                cur_cat = read.categorical(current, name)
                column.add_counts(cur_cat.counts, cur_rows, cur_cat.missing)
                scorer = functools.partial(
                    _categorical_score, ref=ref_cat.counts, cur=cur_cat.counts, other=0
                )
        profiles[name] = ref
        if name not in cur_names:
            results.append(absent(name, kind, ref.count, 0, "column missing", config))
            continue
        state.columns[name] = column
        results.append(verdict(name, kind, ref.count, column, config, scorer))
    drift = summarise(results, config.share_threshold, "exact")
    return ExactPass(drift, DatasetProfile(ref_rows, profiles), state)


def compare_exact(
    reference: read.Data, current: read.Data, config: DriftConfig, progress: Progress | None = None
) -> DriftResult:
    return exact_pass(reference, current, config, progress).drift


def compare_profile(
    reference: DatasetProfile,
    current: Iterable[read.Data] | DatasetProfile,
    config: DriftConfig,
    progress: Progress | None = None,
) -> DriftResult:
    """The reference as a stored profile; the current side raw batches or a profile."""
    if isinstance(current, DatasetProfile):
        state = state_from_profile(reference, current)
    else:
        state = summarise_batches(reference, current, config.columns)
    return drift_from_state(reference, state, config, progress)


def compare(
    reference: DatasetProfile | pd.DataFrame | pa.Table,
    current: pd.DataFrame | pa.Table | DatasetProfile,
    config: DriftConfig | None = None,
    *,
    exact: bool | None = None,
    progress: Progress | None = None,
) -> DriftResult:
    """Per-column drift of ``current`` from ``reference`` and the data set's verdict.

    ``exact`` defaults to True when both sides are raw data; ``exact=False`` profiles a
    raw reference first (what a monitor does once at registration).
    """
    config = config or DriftConfig()
    if isinstance(reference, DatasetProfile) or isinstance(current, DatasetProfile):
        if exact:
            raise InvalidInput("exact drift needs raw data on both sides; a profile is sketched")
    elif exact is None or exact:
        return compare_exact(reference, current, config, progress)
    if not isinstance(reference, DatasetProfile):
        names = read.column_names(reference)
        if config.columns is not None:
            names = [n for n in names if n in set(config.columns)]
        reference = profile_dataset(reference, columns=names)
    if isinstance(current, DatasetProfile):
        return compare_profile(reference, current, config, progress)
    return compare_profile(reference, read.batches(current), config, progress)
