"""The running instance: settings, metadata database, artifact store and event bus.

Every service function takes a ``Steward`` first, so the API, the CLI and the SDK's
local mode all call the same code against the same stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from modelsteward.audit import chain as audit
from modelsteward.config import Settings
from modelsteward.events import DomainEvent, EventBus
from modelsteward.store import migrate
from modelsteward.store.artifacts import ArtifactStore
from modelsteward.store.db import Database


@dataclass
class Change:
    """One write transaction; ``record`` writes the audit event and queues the domain event.

    Core statements run on ``connection``; ``session`` is an ORM session in the same
    transaction, opened on first use (a change that needs none, such as registering a
    version, skips its cost) and flushed before the transaction commits.
    """

    connection: Connection
    actor: str
    events: list[DomainEvent] = field(default_factory=list)
    _session: Session | None = field(default=None, repr=False)

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False)
        return self._session

    def _flush(self) -> None:
        if self._session is not None:
            self._session.flush()

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()

    def record(
        self,
        action: str,
        object_type: str,
        object_id: str | int,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        audit.append(
            self.connection,
            actor=self.actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            before=before,
            after=after,
        )
        self.events.append(
            DomainEvent(
                name=action,
                actor=self.actor,
                object_type=object_type,
                object_id=str(object_id),
                payload=payload if payload is not None else (after or {}),
            )
        )


class Steward:
    def __init__(self, settings: Settings | None = None, *, migrate_schema: bool = True) -> None:
        self.settings = settings or Settings.from_env()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.db_url)
        self.artifacts = ArtifactStore(self.settings.artifacts_url)
        self.bus = EventBus()
        if migrate_schema:
            migrate.upgrade(self.db)

    @contextmanager
    def change(self, actor: str) -> Iterator[Change]:
        """A write transaction whose audit records commit with it, events published after."""
        with self.db.transaction() as connection:
            change = Change(connection=connection, actor=actor)
            try:
                yield change
                change._flush()
            finally:
                change._close()
        for event in change.events:
            self.bus.publish(event)

    def close(self) -> None:
        self.db.dispose()
