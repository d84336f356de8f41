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
# Measured on 17-digit floats (normal and log-normal data): 45-47 bytes per sketch bin (an
# edge, a count and a running sum) and about 1 450 per numeric column whatever its bins
# (moments, summary quantiles, the 40-bin histogram, the keys).
BYTES_PER_SKETCH_BIN = 48
NUMERIC_COLUMN_BYTES = 1500
CATEGORY_BYTES = 40  # one stored category and its count
CATEGORICAL_COLUMN_BYTES = 150
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

    The budget goes to the columns that exist: each categorical column takes what its
    values need, up to an equal share of the budget, and the numeric columns split the
    rest. So an all-numeric table gives it all to its sketches (30 numeric columns: 110
    bins; keeping half for absent categorical columns left 56, a KS twice as coarse).
    """
    if not len(frame.columns):
        return SKETCH_BINS, CATEGORY_CAP
    share = DOCUMENT_BUDGET // len(frame.columns)
    cap = max(
        MIN_CATEGORIES, min(CATEGORY_CAP, (share - CATEGORICAL_COLUMN_BYTES) // CATEGORY_BYTES)
    )
    numeric, categorical_bytes = 0, 0
    for name in frame.columns:
        if _is_numeric(frame[name]):
            numeric += 1
        else:
            kept = min(int(frame[name].nunique()), cap)
            categorical_bytes += CATEGORICAL_COLUMN_BYTES + CATEGORY_BYTES * kept
    if not numeric:
        return SKETCH_BINS, cap
    room = (DOCUMENT_BUDGET - categorical_bytes) // numeric - NUMERIC_COLUMN_BYTES
    return max(MIN_BINS, min(SKETCH_BINS, room // BYTES_PER_SKETCH_BIN)), cap


def profile_dataframe(frame: pd.DataFrame) -> dict[str, Any]:
    """The stored profile document of a training data frame."""
    frame = frame.rename(columns=str)
    bins, cap = resolution_for(frame)
    return profile_dataset(frame, bins=bins, category_cap=cap).to_dict()
