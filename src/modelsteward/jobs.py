"""Periodic jobs, declared by the service that owns them.

Each service ships its jobs through the ``modelsteward.jobs`` entry point group;
``background.background_work`` schedules every registered one, so a new service adds
a job without editing a composition root. A job claims its own due work in the
database with a compare-and-set, so any number of processes may run it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelsteward.config import Settings
from modelsteward.plugins import NamedRegistry

if TYPE_CHECKING:
    from modelsteward.context import Steward


def every_tick(_: Settings) -> float | None:
    """The scheduler's own tick (``STEWARD_SCHEDULER_SECONDS``)."""
    return None


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: Callable[[Steward], int] = field(repr=False)
    """Does the work due now; returns how many items it handled."""
    interval_s: Callable[[Settings], float | None] = every_tick
    """Seconds between runs from the settings; None for every tick, 0 to switch it off."""


JOBS: NamedRegistry[Job] = NamedRegistry("modelsteward.jobs", "job", Job)
