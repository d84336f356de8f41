"""The running instance: settings, metadata database, artifact store and event doorbell.

Every service function takes a ``Steward`` first, so the API, the CLI and the SDK's
local mode all call the same code against the same stores.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from modelsteward.audit import chain as audit
from modelsteward.config import Settings
from modelsteward.events import outbox
from modelsteward.events.catalogue import catalogue
from modelsteward.events.domain import DomainEvent
from modelsteward.store import migrate
from modelsteward.store.artifacts import ArtifactStore
from modelsteward.store.db import Database


@dataclass
class Change:
    """One write transaction; ``record`` writes the audit record and queues the event.

    Core statements run on ``connection``; ``session`` is an ORM session in the same
    transaction, opened on first use (a change that needs none, such as registering a
    version, skips its cost) and flushed before the transaction commits, together with
    the queued events, which go to the outbox in the same transaction.
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
        outbox.write(self.connection, self.events)

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
        """Append the audit record and queue the event ``action`` (declared in the
        catalogue; its payload is ``payload``, or ``after`` when not given)."""
        body = payload if payload is not None else (after or {})
        catalogue().check(action, object_type, body)
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
                payload=body,
            )
        )

    def publish(
        self, name: str, object_type: str, object_id: str | int, payload: dict[str, Any]
    ) -> None:
        """Queue the event ``name`` without an audit record: for facts that are already
        stored in their own table (a monitor run), so the audit trail holds changes, not
        every scheduled run."""
        catalogue().check(name, object_type, payload)
        self.events.append(
            DomainEvent(
                name=name,
                actor=self.actor,
                object_type=object_type,
                object_id=str(object_id),
                payload=payload,
            )
        )


class Steward:
    def __init__(self, settings: Settings | None = None, *, migrate_schema: bool = True) -> None:
        self.settings = settings or Settings.from_env()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.db_url)
        self.artifacts = ArtifactStore(self.settings.artifacts_url)
        self.doorbell = threading.Event()
        """Rung after a commit that wrote events: wakes this process's dispatchers."""
        if migrate_schema:
            migrate.upgrade(self.db)

    @contextmanager
    def change(self, actor: str) -> Iterator[Change]:
        """A write transaction whose audit records and events commit with it."""
        with self.db.transaction() as connection:
            change = Change(connection=connection, actor=actor)
            try:
                yield change
                change._flush()
            finally:
                change._close()
        if change.events:
            self.doorbell.set()

    def close(self) -> None:
        self.db.dispose()
