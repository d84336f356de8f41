"""The event value every service records and every subscriber receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class DomainEvent:
    """One thing that happened: ``name`` from the catalogue, about one object.

    ``id`` is the event's position in the outbox once committed (None before); a
    subscriber uses it to be idempotent.
    """

    name: str
    actor: str
    object_type: str
    object_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: int | None = None

    @property
    def object_key(self) -> str:
        """What per-object ordering is kept by."""
        return f"{self.object_type}:{self.object_id}"[:300]
