"""The training-time predictions' profile: prediction drift's baseline from day one.

Without it, prediction drift compares with the first window it sees, which may already
have drifted. Registering with training data, the SDK predicts the training rows the way
serving logs its answers (a classifier's class and probabilities, see
``serving.scoring``; any other model's ``prediction``, or its frame's columns) and
stores their profile in the version's metadata under ``prediction_profile``, where the
``prediction_drift`` monitor looks first. At most ``MAX_ROWS`` rows (a seeded sample)
are predicted, and a profile over ``MAX_PROFILE_BYTES`` is not kept.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from modelsteward.profiles.dataset import profile_dataset
from modelsteward.serving.scoring import answering

log = logging.getLogger(__name__)
MAX_ROWS = 100_000
MAX_PROFILE_BYTES = 64 * 1024


def profile_predictions(
    model: Any, training_data: pd.DataFrame, input_schema: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The profile of ``model``'s answers on the training rows, or None where it cannot
    be made (no tabular input schema, features missing, predict failing, too big)."""
    columns = (input_schema or {}).get("columns") or []
    features = [str(c["name"]) for c in columns]
    if not features or any(c.get("type") == "tensor" for c in columns):
        return None
    frame = training_data.rename(columns=str)
    if any(f not in frame.columns for f in features) or frame.empty:
        return None
    rows = frame[features]
    if len(rows) > MAX_ROWS:
        rows = rows.sample(MAX_ROWS, random_state=0)
    try:
        outputs = _outputs(model, rows)
    except Exception as exc:  # the version registers anyway; monitors use the first window
        log.warning("no training predictions profile: the model failed (%s)", type(exc).__name__)
        return None
    if outputs is None:
        return None
    profile = profile_dataset(outputs).to_dict()
    if len(json.dumps(profile, default=str)) > MAX_PROFILE_BYTES:
        return None
    return profile


def _outputs(model: Any, rows: pd.DataFrame) -> pd.DataFrame | None:
    """The answers as the prediction log's window reads them: one column per field."""
    answer = answering(model)
    if answer is not None:
        return pd.DataFrame(answer(rows).columns())
    predicted = model.predict(rows)
    if isinstance(predicted, pd.DataFrame):
        return predicted.rename(columns=str).reset_index(drop=True)
    values = np.asarray(predicted)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    return pd.DataFrame({"prediction": values}) if values.ndim == 1 else None
