"""Champion against challenger on the same traffic: metric deltas with a significance test.

A shadow version answers a copy of every champion request under the same request id,
so the two answers pair row by row and the tests are paired: McNemar's exact test for
accuracy, a paired t-test (with Wilcoxon's signed-rank p-value beside it) for absolute
errors and for predictions, and the share of rows where the two agree, which needs no
labels. A canary or A/B split sends different requests to each, so the tests are
unpaired: a two-proportion z-test and Welch's t-test. Deltas are challenger minus
champion, each with its 95% band in low/high and its p-value in detail. A delta is
breached when the challenger is significantly worse (p < ``alpha``); a significantly
better challenger stays ok and says so, which is what a promotion wants to know. The
points (and breach events) name the challenger's version: it is the one being judged.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from modelsteward.monitoring.bands import wilson
from modelsteward.monitoring.families.base import Family, FamilyContext, FamilyResult
from modelsteward.monitoring.families.champion_challenger.comparison import (
    Delta,
    mcnemar,
    paired_t,
    two_proportions,
    welch,
)
from modelsteward.monitoring.points import Point
from modelsteward.monitoring.specs import MonitorSpec, Name
from modelsteward.monitoring.windows import PredictionWindow

WORSE_WHEN = {"accuracy_delta": -1.0, "mae_delta": 1.0}  # the sign of a worse challenger


class ChampionChallengerSpec(MonitorSpec):
    metrics = ("accuracy_delta", "mae_delta", "agreement_rate", "prediction_mean_delta")
    type: Literal["champion_challenger"] = "champion_challenger"
    mode: Literal["auto", "shadow", "split"] = Field(
        default="auto", description="shadow: paired by request; split: canary or A/B"
    )
    challenger_version: Annotated[int, Field(ge=1)] | None = None
    prediction: Name | None = Field(default=None, description="Output column of the prediction")
    task: Literal["auto", "classification", "regression"] = "auto"
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05

    @model_validator(mode="after")
    def _reads_both_routes(self) -> ChampionChallengerSpec:
        if self.route is not None or self.segment_by is not None:
            raise ValueError("champion_challenger monitors read both routes and no segments")
        return self


def _text(values: np.ndarray) -> np.ndarray:
    """Numbers as class text (None where missing); whole numbers lose their ".0"."""
    return np.array(
        [
            None if not math.isfinite(v) else str(int(v)) if v.is_integer() else repr(float(v))
            for v in values
        ],
        dtype=object,
    )


@dataclass(frozen=True)
class Side:
    """One route's rows: ``predicted`` and ``labels`` both numbers (NaN where missing) when
    ``numeric``, else both text (None where missing); ``keys`` pair shadow rows."""

    version: int | None
    keys: np.ndarray
    predicted: np.ndarray
    labels: np.ndarray
    numeric: bool

    @property
    def rows(self) -> int:
        return int(self.predicted.size)

    @property
    def labelled(self) -> np.ndarray:
        if self.numeric:
            return np.isfinite(self.labels)
        return np.array([v is not None for v in self.labels], dtype=bool)

    def take(self, index: np.ndarray) -> Side:
        return Side(
            self.version, self.keys[index], self.predicted[index], self.labels[index], self.numeric
        )

    def as_text(self) -> Side:
        if not self.numeric:
            return self
        return Side(self.version, self.keys, _text(self.predicted), _text(self.labels), False)


def side_of(spec: ChampionChallengerSpec, window: PredictionWindow) -> Side | None:
    """A window's side, or None when its outputs have no prediction column."""
    names = window.outputs.column_names
    name = spec.prediction or next((n for n in ("prediction", *names) if n in names), None)
    if name not in names:
        return None
    column = window.outputs.column(name)
    numeric = pa.types.is_floating(column.type) or pa.types.is_integer(column.type)
    label = window.labels.column("label") if window.labels is not None else None
    number = window.labels.column("label_number") if window.labels is not None else None
    if label is None or number is None:
        label = number = pa.chunked_array([pa.nulls(window.rows, pa.float64())])
    numeric = numeric and number.null_count == label.null_count
    if numeric:
        predicted = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        labels = pc.cast(number, pa.float64()).to_numpy(zero_copy_only=False)
    else:
        predicted = _as_text(column)
        labels = np.where(
            pc.is_valid(number).to_numpy(zero_copy_only=False), _as_text(number), _as_text(label)
        )
    ids = np.asarray(window.meta.column("request_id").to_pylist(), dtype=object)
    position = np.arange(ids.size)
    starts = np.r_[True, ids[1:] != ids[:-1]] if ids.size else np.zeros(0, dtype=bool)
    first = np.maximum.accumulate(np.where(starts, position, 0)) if ids.size else position
    keys = np.array([f"{r}#{i}" for r, i in zip(ids, position - first, strict=True)], object)
    found = Counter(window.meta.column("version").to_pylist()).most_common(1)
    return Side(found[0][0] if found else None, keys, predicted, labels, numeric)


def _as_text(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        return _text(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
    return np.array(pc.cast(column, pa.string()).to_pylist(), dtype=object)


def _same_kind(a: Side, b: Side) -> tuple[Side, Side]:
    return (a, b) if a.numeric == b.numeric else (a.as_text(), b.as_text())


def _classification(spec: ChampionChallengerSpec, *sides: Side) -> bool:
    if spec.task != "auto":
        return spec.task == "classification"
    if not all(s.numeric for s in sides):
        return True
    values = np.concatenate([v[np.isfinite(v)] for s in sides for v in (s.predicted, s.labels)])
    return bool(np.all(np.mod(values, 1) == 0)) and np.unique(values).size <= 20


# -- paired: shadow traffic -----------------------------------------------------------------


def paired(spec: ChampionChallengerSpec, a: Side, b: Side) -> list[Delta]:
    """Deltas over rows both answered (``a`` and ``b`` aligned row by row, ``a``'s labels)."""
    labelled = a.labelled
    enough = int(labelled.sum()) >= max(spec.min_rows, 2)
    out = []
    if _classification(spec, a, b):
        agree, n = int((a.predicted == b.predicted).sum()), a.rows
        out.append(Delta("agreement_rate", agree / n, *wilson(agree, n), None, {"n": n}))
        if enough:
            truth = a.labels[labelled]
            out.append(mcnemar(a.predicted[labelled] == truth, b.predicted[labelled] == truth))
    elif enough:
        truth = a.labels[labelled]
        errors = np.abs(a.predicted[labelled] - truth), np.abs(b.predicted[labelled] - truth)
        out.append(paired_t("mae_delta", *errors, wilcoxon=True))
    if a.numeric and a.rows >= 2:
        out.append(paired_t("prediction_mean_delta", a.predicted, b.predicted))
    return out


# -- unpaired: canary and A/B splits --------------------------------------------------------


def unpaired(spec: ChampionChallengerSpec, a: Side, b: Side) -> list[Delta]:
    """Deltas between two groups of different requests."""
    out = []
    la, lb = a.labelled, b.labelled
    enough = min(int(la.sum()), int(lb.sum())) >= max(spec.min_rows, 2)
    if _classification(spec, a, b):
        if enough:
            right_a = a.predicted[la] == a.labels[la]
            right_b = b.predicted[lb] == b.labels[lb]
            out.append(two_proportions(right_a, right_b))
    elif enough:
        errors = np.abs(a.predicted[la] - a.labels[la]), np.abs(b.predicted[lb] - b.labels[lb])
        out.append(welch("mae_delta", *errors))
    if a.numeric and b.numeric and min(a.rows, b.rows) >= 2:
        out.append(welch("prediction_mean_delta", a.predicted, b.predicted))
    return out


# -- the family -----------------------------------------------------------------------------


def judged(spec: ChampionChallengerSpec, delta: Delta, detail: dict[str, Any]) -> Point:
    """Breached when the challenger is significantly worse or a threshold fails."""
    bound = spec.bound(delta.metric)
    detail = {**delta.detail, **detail}
    status = "ok" if bound is None or bound.holds(delta.value) else "breached"
    if delta.p_value is not None:
        detail |= {"p_value": delta.p_value, "alpha": spec.alpha}
    worse = WORSE_WHEN.get(delta.metric)
    if worse is not None and delta.p_value is not None:
        significant = delta.p_value < spec.alpha and delta.value != 0
        if significant and math.copysign(1.0, delta.value) == worse:
            detail["verdict"], status = "challenger significantly worse", "breached"
        elif significant:
            detail["verdict"] = "challenger significantly better"
        else:
            detail["verdict"] = "no significant difference"
    threshold = bound.threshold if bound is not None else None
    return Point(
        delta.metric, delta.value, "", "", delta.low, delta.high, threshold, status, detail
    )


def evaluate(spec: ChampionChallengerSpec, ctx: FamilyContext) -> FamilyResult:
    champion_window = ctx.window(spec, route="champion", labels=True)
    champion = side_of(spec, champion_window)
    start = champion_window.start
    notes = []
    if spec.mode != "split":
        shadow_window = ctx.window(spec, route="shadow", labels=True)
        shadow = side_of(spec, shadow_window)
        if champion is not None and shadow is not None and shadow.rows:
            wanted = spec.challenger_version or shadow.version
            chosen = np.flatnonzero(_versions(shadow_window) == wanted)
            shadow = replace(shadow.take(chosen), version=wanted)
            a, b = _same_kind(champion, shadow)
            _, ia, ib = np.intersect1d(a.keys, b.keys, assume_unique=False, return_indices=True)
            if ia.size >= spec.min_rows or spec.mode == "shadow":
                return _result(spec, a.take(ia), b.take(ib), "shadow", start, int(ia.size))
        notes.append("no shadow rows pair with champion rows")
    if spec.mode != "shadow":
        challenger_window = ctx.window(spec, route="challenger", labels=True)
        challenger = side_of(spec, challenger_window)
        rows = min(champion.rows if champion else 0, challenger.rows if challenger else 0)
        if champion is not None and challenger is not None and rows >= spec.min_rows:
            a, b = _same_kind(champion, challenger)
            return _result(spec, a, b, "split", start, a.rows + b.rows)
        notes.append("no challenger rows beside the champion's")
    if champion is None:
        notes = ["the champion's outputs have no prediction column"]
    note = "; ".join(notes) + f" (at least {spec.min_rows} needed)"
    return FamilyResult(0, start, status="not enough data", detail={"note": note})


def _versions(window: PredictionWindow) -> np.ndarray:
    return window.meta.column("version").to_numpy(zero_copy_only=False)


def _result(
    spec: ChampionChallengerSpec, a: Side, b: Side, mode: str, start: Any, rows: int
) -> FamilyResult:
    if rows < max(spec.min_rows, 2):
        note = f"{rows} rows to compare; at least {max(spec.min_rows, 2)} needed"
        return FamilyResult(rows, start, status="not enough data", detail={"note": note})
    versions = {"champion_version": a.version, "challenger_version": b.version, "mode": mode}
    deltas = paired(spec, a, b) if mode == "shadow" else unpaired(spec, a, b)
    points = [judged(spec, d, versions) for d in deltas]
    detail = {**versions, "rows": rows}
    if not any(d.metric in WORSE_WHEN for d in deltas):
        detail["note"] = (
            f"fewer than {max(spec.min_rows, 2)} labelled rows: no accuracy or error test"
        )
    return FamilyResult(rows, start, points, detail=detail, version=b.version)


FAMILY = Family(
    spec=ChampionChallengerSpec,
    evaluate=evaluate,
    summary="challenger minus champion on shadow or split traffic, with significance tests",
)
