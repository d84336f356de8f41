"""A plausible input row for a version, so a rollout can smoke-test it before traffic.

Values come from the training-data profile when there is one (medians, most frequent
categories), otherwise from neutral values of each column's type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

NEUTRAL: dict[str, Any] = {
    "integer": 0,
    "float": 0.0,
    "boolean": False,
    "string": "",
    "category": "",
    "datetime": datetime(2026, 1, 1, tzinfo=UTC),
    "binary": b"",
    "object": None,
}


def _value(column: dict[str, Any], profile: dict[str, Any]) -> Any:
    stats = profile.get(column["name"], {})
    if stats.get("kind") == "numeric" and "quantiles" in stats:
        median = stats["quantiles"].get("0.5", 0.0)
        return int(round(median)) if column["type"] == "integer" else float(median)
    if stats.get("kind") == "categorical" and stats.get("top"):
        return next(iter(stats["top"]))
    return NEUTRAL.get(column["type"])


def sample_input(input_schema: dict[str, Any] | None, training_data: dict[str, Any] | None) -> Any:
    """One row (a DataFrame, or a tensor of batch size 1); None when nothing is known."""
    if not input_schema or not input_schema.get("columns"):
        return None
    columns = input_schema["columns"]
    if len(columns) == 1 and columns[0]["type"] == "tensor":
        shape = [1 if d is None or d < 0 else d for d in (columns[0].get("shape") or [-1])]
        return np.zeros(shape, dtype=columns[0].get("dtype") or "float32")
    profile = ((training_data or {}).get("profile") or {}).get("columns", {})
    frame = pd.DataFrame([{c["name"]: _value(c, profile) for c in columns}])
    for column in columns:
        if column.get("dtype") and column["type"] in ("integer", "float", "boolean"):
            frame[column["name"]] = frame[column["name"]].astype(column["dtype"])
    return frame
