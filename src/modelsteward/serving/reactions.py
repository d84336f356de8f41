"""Serving's reaction to deployment events: every serving process reloads its routes.

A rollout may run in any process; the others learn of it from the outbox. The
``serving.routes`` subscriber is process-scoped, so each serving process hears every
``deployment.*`` event and wakes its runtime, which then claims a requested rollout or
installs the applied revision at once instead of at its next poll. The poll stays as
the fallback: a missed wake-up delays a reload, it never loses one.
"""

from __future__ import annotations

from modelsteward.context import Steward
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import Subscriber
from modelsteward.serving.runtime import running

ROUTE_EVENTS = frozenset({"deployment.requested", "deployment.changed", "deployment.failed"})


def wake_runtimes(steward: Steward, event: DomainEvent) -> None:
    for runtime in running(steward):
        runtime.wake()


ROUTES = Subscriber(
    name="serving.routes",
    description="Wake this process's serving runtime to claim rollouts and reload routes.",
    events=ROUTE_EVENTS,
    handle=wake_runtimes,
    scope="process",
    timeout_s=5.0,
)
