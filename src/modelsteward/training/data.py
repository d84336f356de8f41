"""A run's data snapshot: the pipeline's data copied once into the artifact store.

The snapshot's sha256 is the data hash that lineage records, that deduplicates requests
(model, cause, snapshot) and that ``steward reproduce`` trains on again: a run never
reads data that could have changed since it was asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import fsspec

from modelsteward.errors import InvalidInput
from modelsteward.store.artifacts import StoredBlob
from modelsteward.store.tables import as_utc
from modelsteward.training.specs import FileData, PipelineSpec, ProductionData

CHUNK = 1 << 20

if TYPE_CHECKING:
    from modelsteward.context import Steward


@dataclass(frozen=True)
class Snapshot:
    sha256: str
    size: int
    name: str
    """``data.csv`` or ``data.parquet``: how the run reads it."""


def _file(steward: Steward, data: FileData) -> Snapshot:
    suffix = ".csv" if data.location.lower().endswith(".csv") else ".parquet"
    try:
        with fsspec.open(data.location, "rb") as handle:
            blob = steward.artifacts.put_stream(iter(lambda: handle.read(CHUNK), b""))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"data.location: cannot read {data.location}: {exc}"[:500]) from None
    return Snapshot(blob.sha256, blob.size, f"data{suffix}")


def production_frame(steward: Steward, data: ProductionData, target: str) -> Any:
    """Labelled requests of the window: each logged input row with its label as ``target``
    (shadow copies and failed requests left out)."""
    import pandas as pd

    from modelsteward.serving.labels import LabelStore
    from modelsteward.serving.predlog import PredictionLog

    since = datetime.now(UTC) - timedelta(hours=data.window_hours)
    with PredictionLog(steward.settings.logs_url) as log:
        joined = LabelStore(steward.settings.logs_url).joined(log, data.deployment, since)
    rows: list[dict[str, Any]] = []
    columns = ("inputs", "label", "route", "status")
    for inputs, label, route, status in zip(
        *(joined.column(c).to_pylist() for c in columns), strict=True
    ):
        # A shadow's rows repeat the requests its primary answered; failed requests
        # carry inputs that were refused.
        if label is None or inputs is None or route == "shadow" or (status or 0) >= 400:
            continue
        for row in json.loads(inputs):
            if isinstance(row, dict):
                rows.append({**row, target: json.loads(label)})
    if not rows:
        raise InvalidInput(
            f"data: deployment {data.deployment!r} has no labelled requests in the last "
            f"{data.window_hours:g} hours"
        )
    return pd.DataFrame(rows)


def labelled_since(steward: Steward, data: ProductionData, since: datetime) -> int:
    """How many of the window's requests got their label at or after ``since``."""
    from modelsteward.serving.labels import LabelStore
    from modelsteward.serving.predlog import PredictionLog

    start = datetime.now(UTC) - timedelta(hours=data.window_hours)
    with PredictionLog(steward.settings.logs_url) as log:
        joined = LabelStore(steward.settings.logs_url).joined(log, data.deployment, start)
    arrived = joined.column("label_at").to_pylist()
    routes = joined.column("route").to_pylist()
    return sum(
        1
        for at, route in zip(arrived, routes, strict=True)
        if at is not None and route != "shadow" and as_utc(at) >= since
    )


def _production(steward: Steward, data: ProductionData, target: str) -> Snapshot:
    frame = production_frame(steward, data, target)
    blob: StoredBlob = steward.artifacts.put_bytes(frame.to_csv(index=False).encode())
    return Snapshot(blob.sha256, blob.size, "data.csv")


def take_snapshot(steward: Steward, spec: PipelineSpec) -> Snapshot:
    if isinstance(spec.data, FileData):
        return _file(steward, spec.data)
    return _production(steward, spec.data, spec.target)
