"""The training-data profile stored with a version, so monitoring never re-reads the data.

It is ``modelsteward.profiles.dataset.DatasetProfile.to_dict()``: per numeric column
counts, moments, summary quantiles, a quantile sketch and a histogram; per categorical
column its most frequent values. The sketch is as fine as the stored document's size
limit allows (up to 500 bins per column), so wide tables still fit.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from modelsteward.profiles.dataset import CATEGORY_CAP, SKETCH_BINS, profile_dataset

DOCUMENT_BUDGET = 200 * 1024  # bytes of JSON, under the registry's 256 KiB document limit
BYTES_PER_SKETCH_BIN = 60  # an edge, a count and a running sum, as JSON text
CATEGORY_BYTES = 40  # one stored category and its count
MIN_BINS = 20
MIN_CATEGORIES = 20


def dataframe_sha256(frame: pd.DataFrame) -> str:
    """A stable fingerprint of the data's content, column names and order."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def resolution_for(frame: pd.DataFrame) -> tuple[int, int]:
    """Sketch bins and categories kept per column, the finest that fit the budget.

    Numeric and categorical columns share the budget half and half.
    """
    numeric = sum(1 for name in frame.columns if _is_numeric(frame[name]))
    categorical = len(frame.columns) - numeric
    half = DOCUMENT_BUDGET // 2
    bins = SKETCH_BINS if not numeric else half // numeric // BYTES_PER_SKETCH_BIN
    cap = CATEGORY_CAP if not categorical else half // categorical // CATEGORY_BYTES
    return max(MIN_BINS, min(SKETCH_BINS, bins)), max(MIN_CATEGORIES, min(CATEGORY_CAP, cap))


def profile_dataframe(frame: pd.DataFrame) -> dict[str, Any]:
    """The stored profile document of a training data frame."""
    frame = frame.rename(columns=str)
    bins, cap = resolution_for(frame)
    return profile_dataset(frame, bins=bins, category_cap=cap).to_dict()
