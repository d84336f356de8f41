"""Domain events and the in-process bus that delivers them after commit.

Services emit events (``version.registered``, ``alias.moved``, ...) through one
function; the audit log, webhooks and test recorders are subscribers. Handlers run
after the transaction commits, so a subscriber never sees a change that was rolled back.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    name: str
    actor: str
    object_type: str
    object_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


Handler = Callable[[DomainEvent], None]


class EventBus:
    """Delivers each event to the handlers subscribed to its name, or to ``*``."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, name: str, handler: Handler) -> Callable[[], None]:
        self._handlers[name].append(handler)
        return lambda: self._handlers[name].remove(handler)

    def publish(self, event: DomainEvent) -> None:
        for handler in [*self._handlers.get(event.name, ()), *self._handlers.get("*", ())]:
            try:
                handler(event)
            except Exception:  # one failing subscriber must not break the others
                log.exception("event handler %r failed for %s", handler, event.name)
