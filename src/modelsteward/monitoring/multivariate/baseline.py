"""The reference both multivariate monitors compare with, fitted once and stored as JSON.

``fit_baseline`` reads the numeric columns of a reference table (categorical, boolean and
timestamp columns are left out; constant and all-missing ones too, and any beyond the
first 50 numeric columns), scales each by its median and IQR, and keeps: the robust
geometry of ``geometry.fit`` (centre, principal axes, variances; PCA keeps 65% of the
variance), the mean and standard deviation of each reference row's reconstruction error
and the 99.5% quantile of its Mahalanobis distance (both measured out of fold, never on
the rows a fit saw), and a sample of at most 500 scaled rows (to 0.01) for the domain
classifier. A training set is fitted on at most 100 000 rows (a seeded sample). The
document fits a byte budget (the registry's 256 KiB per document, shared with the
training profile) by shrinking the sample; ``restricted`` refits on that sample when a
window has fewer of the columns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.stats import chi2

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.multivariate import geometry
from modelsteward.monitoring.multivariate.matrix import (
    Matrix,
    numeric_names,
    read_matrix,
    robust_scale,
    scaled,
)

FORMAT = 1
MAX_FIT_ROWS = 100_000
MAX_COLUMNS = 50
SAMPLE_ROWS = 500
SAMPLE_DECIMALS = 2  # the sample is stored in scaled units, to 0.01 of a spread
MIN_SAMPLE_ROWS = 50  # below this the domain classifier has too little to learn from
MIN_ROWS = 20
FOLDS = 5
DISTANCE_QUANTILE = 0.995
SEED = 0


@dataclass(frozen=True)
class MultivariateBaseline:
    columns: list[str]
    center: np.ndarray
    scale: np.ndarray
    geometry: geometry.Geometry
    error_mean: float | None  # per row, out of fold; None with a single column
    error_std: float | None
    distance_threshold: float  # Mahalanobis distance beyond which a row is an outlier
    reference_outlier_rate: float
    rows: int
    sample: np.ndarray  # scaled rows, rounded to SAMPLE_DECIMALS
    left_out: dict[str, str]

    def scaled(self, matrix: Matrix) -> np.ndarray:
        """The window's rows in this baseline's units (columns in ``self.columns`` order)."""
        return scaled(matrix.values, self.center, self.scale)

    def restricted(self, columns: Sequence[str]) -> MultivariateBaseline:
        """The baseline of fewer columns, refitted on the stored sample."""
        index = [self.columns.index(c) for c in columns]
        if self.sample.shape[0] < MIN_ROWS:
            raise InvalidInput("the baseline's sample is too small to refit on fewer columns")
        left_out = self.left_out | {
            c: "not judged in this window" for c in self.columns if c not in columns
        }
        return _summarise(
            self.sample[:, index],
            list(columns),
            self.center[index],
            self.scale[index],
            left_out,
            SEED,
        )

    def to_dict(self) -> dict[str, Any]:
        g = self.geometry
        return {
            "format": FORMAT,
            "columns": list(self.columns),
            "rows": self.rows,
            "center": _numbers(self.center),
            "scale": _numbers(self.scale),
            "location": _numbers(g.location),
            "axes": np.round(g.axes, 4).tolist(),
            "variances": _numbers(g.variances),
            "kept": g.kept,
            "reconstruction": None
            if self.error_mean is None
            else {"mean": self.error_mean, "std": self.error_std},
            "distance": {
                "threshold": self.distance_threshold,
                "quantile": DISTANCE_QUANTILE,
                "reference_rate": self.reference_outlier_rate,
            },
            "sample": np.round(self.sample, SAMPLE_DECIMALS).tolist(),
            "left_out": dict(self.left_out),
        }

    @classmethod
    def from_dict(cls, data: Any) -> MultivariateBaseline:
        try:
            columns = [str(c) for c in data["columns"]]
            d = len(columns)
            axes = np.asarray(data["axes"], dtype=np.float64).reshape(d, d)
            sample = np.asarray(data["sample"] or np.zeros((0, d)), dtype=np.float64)
            reconstruction = data.get("reconstruction") or {}
            if data.get("format") != FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}")
            scale, variances = _vector(data["scale"], d), _vector(data["variances"], d)
            kept = int(data["kept"])
            if not (np.all(scale > 0) and np.all(variances > 0) and 0 <= kept < max(d, 1)):
                raise ValueError("spreads and variances must be positive, 'kept' below the columns")
            g = geometry.Geometry(_vector(data["location"], d), axes, variances, kept)
            return cls(
                columns,
                _vector(data["center"], d),
                scale,
                g,
                _optional(reconstruction.get("mean")),
                _optional(reconstruction.get("std")),
                float(data["distance"]["threshold"]),
                float(data["distance"]["reference_rate"]),
                int(data["rows"]),
                sample.reshape(-1, d),
                {str(k): str(v) for k, v in dict(data.get("left_out") or {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(f"multivariate baseline is malformed: {exc}") from None

    def within(self, max_bytes: int) -> MultivariateBaseline:
        """The same baseline with as much of its sample as fits ``max_bytes`` of JSON."""
        bare = size_of(replace(self, sample=self.sample[:0]))
        if bare > max_bytes:
            raise InvalidInput(
                f"a multivariate baseline of {len(self.columns)} columns needs "
                f"{bare} bytes; {max_bytes} are left"
            )
        kept = self.sample
        while kept.shape[0] and size_of(replace(self, sample=kept)) > max_bytes:
            per_row = (size_of(replace(self, sample=kept)) - bare) / kept.shape[0]
            rows = min(int((max_bytes - bare) / per_row * 0.98), kept.shape[0] - 1)
            kept = kept[: rows if rows >= MIN_SAMPLE_ROWS else 0]
        return replace(self, sample=kept)


def size_of(baseline: MultivariateBaseline) -> int:
    """Bytes of its JSON, measured the way the registry measures a document."""
    return len(json.dumps(baseline.to_dict(), default=str))


def _numbers(values: np.ndarray) -> list[float]:
    return [float(f"{v:.8g}") for v in values.tolist()]


def _vector(values: Any, d: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (d,):
        raise ValueError(f"expected {d} numbers, got shape {array.shape}")
    return array


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def fit_baseline(
    data: pd.DataFrame | pa.Table,
    *,
    columns: Sequence[str] | None = None,
    max_bytes: int | None = None,
    seed: int = SEED,
) -> MultivariateBaseline:
    """Fit the baseline of ``data``'s numeric columns (only ``columns``, when given)."""
    names = numeric_names(data)
    if columns is not None:
        names = [n for n in names if n in set(columns)]
    total = data.num_rows if isinstance(data, pa.Table) else len(data)
    if total < MIN_ROWS:
        raise InvalidInput(f"{total} reference rows; at least {MIN_ROWS} needed")
    rows = None
    if total > MAX_FIT_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(total, MAX_FIT_ROWS, replace=False))
    matrix = read_matrix(data, names, rows)
    center, scale = robust_scale(matrix.values)
    left_out: dict[str, str] = {}
    usable: list[int] = []
    for j, name in enumerate(names):
        if np.isnan(center[j]):
            left_out[name] = "all missing"
        elif scale[j] <= 0:
            left_out[name] = "constant"
        elif len(usable) >= MAX_COLUMNS:
            left_out[name] = f"beyond the first {MAX_COLUMNS} numeric columns"
        else:
            usable.append(j)
    if not usable:
        raise InvalidInput("no numeric column with varying values to fit a baseline on")
    z = scaled(matrix.values[:, usable], center[usable], scale[usable])
    fitted = _summarise(
        z, [names[j] for j in usable], center[usable], scale[usable], left_out, seed
    )
    return fitted if max_bytes is None else fitted.within(max_bytes)


def _summarise(
    z: np.ndarray,
    columns: list[str],
    center: np.ndarray,
    scale: np.ndarray,
    left_out: dict[str, str],
    seed: int,
) -> MultivariateBaseline:
    n, d = z.shape
    if n < max(MIN_ROWS, 2 * (d + 1)):
        raise InvalidInput(
            f"{n} reference rows for {d} columns; at least {max(MIN_ROWS, 2 * (d + 1))} needed"
        )
    fitted = geometry.fit(z)
    errors, distances = geometry.out_of_fold(z, min(FOLDS, n // 10), seed)
    threshold = max(float(chi2.ppf(DISTANCE_QUANTILE, d)), float(np.quantile(distances, 0.995)))
    order = np.random.default_rng(seed).permutation(n)[:SAMPLE_ROWS]
    return MultivariateBaseline(
        columns=columns,
        center=center,
        scale=scale,
        geometry=fitted,
        error_mean=float(errors.mean()) if fitted.kept else None,
        error_std=float(errors.std(ddof=1)) if fitted.kept else None,
        distance_threshold=float(np.sqrt(threshold)),
        reference_outlier_rate=float(np.mean(distances > threshold)),
        rows=n,
        sample=np.round(z[order], SAMPLE_DECIMALS),
        left_out=left_out,
    )
