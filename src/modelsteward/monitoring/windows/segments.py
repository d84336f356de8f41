"""Parts of a window: the version that served it, and one part per value of a column.

Every family computes its metrics for the whole window and, with ``segment_by``, for
each frequent value of that input column, so a problem confined to one region or one
product line is not averaged away.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.monitoring.windows import PredictionWindow

MAX_SEGMENTS = 20


def dominant_version(window: PredictionWindow) -> int | None:
    """The version that served most rows of the window (the champion, in a canary)."""
    versions = window.meta.column("version").to_pylist()
    return Counter(versions).most_common(1)[0][0] if versions else None


def segments(window: PredictionWindow, column: str | None) -> list[tuple[str, PredictionWindow]]:
    """The whole window, then one part per frequent value of ``column`` (at most 20)."""
    parts: list[tuple[str, PredictionWindow]] = [("", window)]
    if column is None or column not in window.inputs.column_names:
        return parts
    values = pc.cast(window.inputs.column(column), pa.string())
    counts = sorted(
        ((c["values"], c["counts"]) for c in pc.value_counts(values).to_pylist()),
        key=lambda item: (-item[1], str(item[0])),
    )
    for value, _ in [c for c in counts if c[0] is not None][:MAX_SEGMENTS]:
        parts.append((f"{column}={value}"[:128], window.filter(pc.equal(values, value))))
    return parts
