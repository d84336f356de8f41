"""Which drift method and threshold each column gets, and the dataset-level verdict rule."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.drift.registry import METHODS, get_method


@dataclass(frozen=True)
class DriftConfig:
    """Per-column choices; anything unset follows the default rule.

    Default rule (Evidently's, by column kind and reference size):

    - numeric, at most ``large_sample`` (1 000) reference values: ``ks`` (p < 0.05);
    - numeric, more: ``wasserstein`` normalised by the reference std (>= 0.1);
    - categorical, at most ``large_sample``: ``chi_square`` (p < 0.05);
    - categorical, more: ``jensen_shannon`` (>= 0.1).

    ``psi`` (>= 0.1) works on every column when named. ``methods`` and ``thresholds``
    override per column, ``method_thresholds`` per method, ``numeric_method`` and
    ``categorical_method`` for every column of a kind. A column with fewer than
    ``min_rows`` usable values on either side is "not enough data". The data set has
    drifted when at least ``share_threshold`` of the judged columns drifted.
    """

    methods: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    method_thresholds: Mapping[str, float] = field(default_factory=dict)
    numeric_method: str | None = None
    categorical_method: str | None = None
    columns: Sequence[str] | None = None
    large_sample: int = 1000
    min_rows: int = 10
    bins: int = 10
    share_threshold: float = 0.5

    def __post_init__(self) -> None:
        for name in [*self.methods.values(), *self.method_thresholds]:
            get_method(name)
        for chosen in (self.numeric_method, self.categorical_method):
            if chosen is not None:
                get_method(chosen)
        if self.numeric_method and not get_method(self.numeric_method).applies_to("numeric"):
            raise InvalidInput(f"{self.numeric_method} does not apply to numeric columns")
        if self.categorical_method and not get_method(self.categorical_method).applies_to(
            "categorical"
        ):
            raise InvalidInput(f"{self.categorical_method} does not apply to categorical columns")
        for where, value in [*self.thresholds.items(), *self.method_thresholds.items()]:
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InvalidInput(f"threshold for {where!r} must be a positive number")
        if self.min_rows < 1 or self.large_sample < 1:
            raise InvalidInput("min_rows and large_sample must be at least 1")
        if not 2 <= self.bins <= 100:
            raise InvalidInput("bins must be between 2 and 100")
        if not 0 < self.share_threshold <= 1:
            raise InvalidInput("share_threshold must be in (0, 1]")

    def method_for(self, column: str, kind: str, reference_count: int) -> str:
        if column in self.methods:
            return self.methods[column]
        large = reference_count > self.large_sample
        if kind == "numeric":
            return self.numeric_method or ("wasserstein" if large else "ks")
        return self.categorical_method or ("jensen_shannon" if large else "chi_square")

    def threshold_for(self, column: str, method: str) -> float:
        if column in self.thresholds:
            return float(self.thresholds[column])
        if method in self.method_thresholds:
            return float(self.method_thresholds[method])
        return METHODS[method].threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "methods": dict(self.methods),
            "thresholds": dict(self.thresholds),
            "method_thresholds": dict(self.method_thresholds),
            "numeric_method": self.numeric_method,
            "categorical_method": self.categorical_method,
            "columns": None if self.columns is None else list(self.columns),
            "large_sample": self.large_sample,
            "min_rows": self.min_rows,
            "bins": self.bins,
            "share_threshold": self.share_threshold,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"unknown drift settings: {', '.join(unknown)}")
        try:
            return cls(**dict(data))
        except TypeError as exc:
            raise InvalidInput(f"bad drift settings: {exc}") from None
