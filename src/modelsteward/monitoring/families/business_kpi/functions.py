"""Business KPIs written in Python: named functions of a window of predictions.

A KPI function takes the ``PredictionWindow`` (labels joined) and returns a number, or
a mapping of segment -> number. Packages ship them through the ``modelsteward.kpis``
entry point group (name -> the function, or a ``Kpi``); code in the process adds one with
``KPIS.add(name, function)``. Monitors name KPIs; they never name code.

Two built-ins: ``positive_rate`` (the share of rows predicted as the positive class:
1, "1", true or "yes", else the last class in sort order) and ``mean_prediction`` (the
mean of a numeric prediction), both over the ``prediction`` output column (else the
first output column). They give their rows, so a run draws their 95% band by a seeded
bootstrap; other functions' values come without a band.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.monitoring.families.performance.metrics import positive_of
from modelsteward.monitoring.windows import PredictionWindow
from modelsteward.plugins import NamedRegistry

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "modelsteward.kpis"

KpiValue = float | Mapping[str, float]


@dataclass(frozen=True)
class Kpi:
    """A named KPI; ``rows`` (optional) gives per-row values whose mean is the KPI."""

    name: str
    compute: Callable[[PredictionWindow], KpiValue]
    description: str = ""
    rows: Callable[[PredictionWindow], np.ndarray] | None = None

    def __call__(self, window: PredictionWindow) -> KpiValue:
        return self.compute(window)


class KpiRegistry(NamedRegistry[Kpi]):
    """``NamedRegistry`` whose entry points may also name a bare function."""

    def __init__(self, builtins: Mapping[str, Kpi]) -> None:
        super().__init__(ENTRY_POINT_GROUP, "kpi", Kpi)
        self.builtins = dict(builtins)

    def discovered(self) -> dict[str, Kpi]:
        """Built-ins, then entry point KPIs (loaded once; a broken one is logged and skipped).

        The built-ins are listed in the entry point group too; knowing them here keeps a
        source checkout that was not reinstalled working."""
        if self._discovered is None:
            found = dict(self.builtins)
            for ep in entry_points(group=self.group):
                try:
                    plugin = ep.load()
                except Exception:
                    log.exception(
                        "cannot load kpi %r from entry point group %s", ep.name, self.group
                    )
                    continue
                if isinstance(plugin, Kpi):
                    found[plugin.name] = plugin
                elif callable(plugin):
                    found[ep.name] = Kpi(ep.name, plugin, (plugin.__doc__ or "").strip())
                else:
                    log.error("entry point %r in %s is not callable", ep.name, self.group)
            self._discovered = found
        return self._discovered

    def add(
        self,
        name: str,
        function: Callable[[PredictionWindow], KpiValue],
        *,
        description: str = "",
        replace: bool = False,
    ) -> Kpi:
        """Register ``function`` as the KPI ``name`` in this process."""
        text = description or (function.__doc__ or "").strip()
        return self.register(Kpi(name, function, text), replace=replace)


def prediction_column(window: PredictionWindow) -> pa.ChunkedArray | None:
    names = window.outputs.column_names
    name = "prediction" if "prediction" in names else (names[0] if names else None)
    return window.outputs.column(name) if name is not None else None


def positive_rows(window: PredictionWindow) -> np.ndarray:
    """1.0 where the prediction is the positive class, 0.0 elsewhere (missing left out)."""
    column = prediction_column(window)
    if column is None:
        return np.array([], dtype=np.float64)
    present = column.filter(pc.is_valid(column))
    if pa.types.is_floating(present.type) or pa.types.is_integer(present.type):
        values = np.array([_whole(v) for v in present.to_pylist()], dtype=object)
    else:
        values = np.array([str(v).lower() for v in present.to_pylist()], dtype=object)
    if values.size == 0:
        return np.array([], dtype=np.float64)
    positive = positive_of(np.unique(values.astype(str)))
    return (values.astype(str) == str(positive)).astype(np.float64)


def _whole(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def prediction_rows(window: PredictionWindow) -> np.ndarray:
    """The numeric predictions (missing left out); empty when they are not numbers."""
    column = prediction_column(window)
    if column is None or not (
        pa.types.is_floating(column.type) or pa.types.is_integer(column.type)
    ):
        return np.array([], dtype=np.float64)
    values = pc.cast(column.filter(pc.is_valid(column)), pa.float64()).to_numpy()
    return values[np.isfinite(values)]


def _mean(rows: Callable[[PredictionWindow], np.ndarray]) -> Callable[[PredictionWindow], float]:
    def compute(window: PredictionWindow) -> float:
        values = rows(window)
        return float(values.mean()) if values.size else float("nan")

    return compute


POSITIVE_RATE = Kpi(
    "positive_rate",
    _mean(positive_rows),
    "Share of predictions that are the positive class",
    positive_rows,
)
MEAN_PREDICTION = Kpi(
    "mean_prediction",
    _mean(prediction_rows),
    "Mean of the numeric prediction",
    prediction_rows,
)
KPIS = KpiRegistry({k.name: k for k in (POSITIVE_RATE, MEAN_PREDICTION)})
