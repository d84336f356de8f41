"""A compact baseline profile of training data, so monitoring never re-reads it.

Numeric columns keep counts, moments, quantiles and a 20-bin histogram; other
columns keep their 20 most frequent values. A profile is a few KB per column.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

BINS = 20
TOP_VALUES = 20
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def dataframe_sha256(frame: pd.DataFrame) -> str:
    """A stable fingerprint of the data's content, column names and order."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _numeric(values: pd.Series) -> dict[str, Any]:
    clean = values.dropna().to_numpy(dtype=float)
    clean = clean[np.isfinite(clean)]
    if clean.size == 0:
        return {"kind": "numeric", "count": 0}
    counts, edges = np.histogram(clean, bins=BINS)
    return {
        "kind": "numeric",
        "count": int(clean.size),
        "mean": float(clean.mean()),
        "std": float(clean.std()),
        "min": float(clean.min()),
        "max": float(clean.max()),
        "quantiles": dict(
            zip(map(str, QUANTILES), np.quantile(clean, QUANTILES).tolist(), strict=True)
        ),
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }


def _categorical(values: pd.Series) -> dict[str, Any]:
    counts = values.dropna().astype(str).value_counts()
    return {
        "kind": "categorical",
        "count": int(counts.sum()),
        "distinct": int(counts.size),
        "top": {str(k): int(v) for k, v in counts.head(TOP_VALUES).items()},
    }


def profile_dataframe(frame: pd.DataFrame) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for name in frame.columns:
        series = frame[name]
        is_numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(
            series
        )
        stats = _numeric(series) if is_numeric else _categorical(series)
        stats["nulls"] = int(series.isna().sum())
        columns[str(name)] = stats
    return {"rows": int(len(frame)), "columns": columns}
