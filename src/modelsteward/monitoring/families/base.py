"""What a monitor family is: a spec class and a function from a window to metric points.

Each family module ends with its ``Family`` descriptor; ``families.registry`` lists them
all, so the runner, the API, the CLI and the UI pick them up without knowing them. A
family reads its own window through ``FamilyContext.window`` (it decides the route,
whether labels are joined) and returns its points; it may also return a baseline to
keep on the monitor (its reference captured from the first window, for instance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelsteward.context import Steward
from modelsteward.monitoring.points import Point
from modelsteward.monitoring.specs import MonitorSpec
from modelsteward.monitoring.tables import Monitor
from modelsteward.monitoring.windows import PredictionWindow, read_window
from modelsteward.store.tables import ModelVersion


@dataclass
class FamilyContext:
    """Where a run stands: the monitor (with its stored ``baseline``), its deployment, now."""

    steward: Steward
    monitor: Monitor
    deployment: str
    model_id: int
    now: datetime

    def window(
        self, spec: MonitorSpec, *, route: str | None = None, labels: bool = False
    ) -> PredictionWindow:
        """The spec's window of the prediction log; ``route`` overrides the spec's route
        ("shadow" reads the shadow copies, which the default leaves out)."""
        return read_window(
            self.steward.settings.logs_url,
            self.deployment,
            route=route if route is not None else spec.route,
            labels=labels,
            max_rows=spec.max_rows,
            now=self.now,
            hours=spec.window.hours,
            last=spec.window.last,
        )

    def version(self, number: int | None) -> ModelVersion | None:
        """The deployment's model version ``number`` (None when it is None or unknown)."""
        if number is None:
            return None
        from sqlalchemy import select

        with self.steward.db.read() as session:
            return session.scalar(
                select(ModelVersion).where(
                    ModelVersion.model_id == self.model_id, ModelVersion.version == number
                )
            )


@dataclass
class FamilyResult:
    """A run's outcome: ``status`` is "ok" unless the window could not be judged at all
    ("not enough data"); the runner turns breached points into a breached run."""

    rows: int
    start: datetime | None
    points: list[Point] = field(default_factory=list)
    status: str = "ok"  # or "not enough data", "column missing", "failed"...
    detail: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None
    version: int | None = None


Evaluate = Callable[[Any, FamilyContext], FamilyResult]


@dataclass(frozen=True)
class Family:
    """A monitor type: its spec class (whose ``type`` default names it), the function that
    evaluates a spec over a run's window, and a line saying what it measures."""

    spec: type[MonitorSpec]
    evaluate: Evaluate
    summary: str

    @property
    def type(self) -> str:
        return str(self.spec.model_fields["type"].default)


def too_small(rows: int, spec: MonitorSpec, start: datetime | None) -> FamilyResult:
    """The result of a window with fewer rows than the spec's ``min_rows``."""
    note = f"{rows} rows in the window; at least {spec.min_rows} needed"
    return FamilyResult(rows, start, status="not enough data", detail={"note": note})
