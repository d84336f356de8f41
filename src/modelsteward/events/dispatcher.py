"""The dispatcher: delivers committed events to subscribers, at least once, in order.

Every process that runs background work runs one for the ``cluster`` subscribers, and
every serving process one for the ``process`` subscribers. A pass, for each cluster
subscriber: claim its cursor (a lease), read the events after it, hand each to the
handler, park failures for retry (``deliveries``), and advance the cursor in one write;
then retry what is due. The loop wakes when this process commits an event (the
steward's doorbell), on PostgreSQL when any process does (``wakeup``), and otherwise
every ``poll_s``. A pass that fails (a database restart) is logged and tried again.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from modelsteward.events import cursors, deliveries, outbox
from modelsteward.events.catalogue import UndeclaredEvent, catalogue
from modelsteward.events.domain import DomainEvent
from modelsteward.events.handlers import HandlerThreads
from modelsteward.events.subscribers import SUBSCRIBERS, Scope, Subscriber
from modelsteward.events.wakeup import Listener

if TYPE_CHECKING:
    from modelsteward.context import Steward

log = logging.getLogger(__name__)
BATCH = 500
ERROR_PAUSE_S = 1.0
SETTLE_PAUSE_S = 0.01


def owner_name() -> str:
    """Who holds a lease: host and process, and which dispatcher of that process."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[-128:]


class Dispatcher:
    """Delivers events to ``subscribers`` (default: every registered one of ``scopes``)."""

    def __init__(
        self,
        steward: Steward,
        scopes: Iterable[Scope] = ("cluster", "process"),
        subscribers: Iterable[Subscriber] | None = None,
    ) -> None:
        chosen = list(SUBSCRIBERS.available().values() if subscribers is None else subscribers)
        wanted = set(scopes)
        self.steward = steward
        self.cluster = [s for s in chosen if s.scope == "cluster" and "cluster" in wanted]
        self.process = [s for s in chosen if s.scope == "process" and "process" in wanted]
        settings = steward.settings
        self.poll_s, self.lease_s = settings.events_poll_s, settings.events_lease_s
        self.retry_base_s = settings.events_retry_base_s
        self.owner = owner_name()
        self._local: dict[str, int] = {}
        self._handlers = HandlerThreads()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: Listener | None = None
        self._ready = False

    # -- life ----------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the cluster cursors and place the process ones at the head."""
        if self._ready:
            return
        now = datetime.now(UTC)
        with self.steward.db.transaction() as conn:
            for subscriber in self.cluster:
                cursors.ensure(conn, subscriber.name, now)
            head = outbox.head(conn)
        self._local = {s.name: head for s in self.process}
        self._ready = True

    def start(self) -> None:
        if self._thread is not None or not (self.cluster or self.process):
            return
        self.prepare()
        self._stop.clear()
        if self.steward.db.dialect == "postgresql":
            self._listener = Listener(self.steward.db.url, self.steward.doorbell)
            self._listener.start()
        self._thread = threading.Thread(target=self._loop, name="steward-events", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self.steward.doorbell.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        self._handlers.stop()
        try:
            with self.steward.db.transaction() as conn:
                cursors.release(conn, self.owner)
        except Exception:  # stopping must not fail; the lease runs out by itself
            log.warning("could not release the event cursors of %s", self.owner)

    def _loop(self) -> None:
        doorbell = self.steward.doorbell
        while not self._stop.is_set():
            doorbell.clear()
            try:
                self.run_once()
            except Exception:
                log.exception("event dispatch pass failed; trying again")
                self._stop.wait(ERROR_PAUSE_S)
                continue
            doorbell.wait(self.poll_s)

    # -- passes ----------------------------------------------------------------------
    def run_once(self) -> int:
        """One pass over every subscriber; how many deliveries it made (tests call this)."""
        self.prepare()
        handled = 0
        for subscriber in self.cluster:
            if self._stop.is_set() and self._thread is not None:
                break
            handled += self._pass(subscriber)
        for subscriber in self.process:
            handled += self._process_pass(subscriber)
        return handled

    def settle(self, timeout_s: float = 30.0) -> bool:
        """Run passes until every event is delivered or dead-lettered, retries included;
        False when that takes longer than ``timeout_s`` (tests, the demo)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.run_once() == 0 and self._caught_up():
                return True
            time.sleep(SETTLE_PAUSE_S)
        return False

    def _caught_up(self) -> bool:
        with self.steward.db.query() as conn:
            head = outbox.head(conn)
            at = cursors.positions(conn)
            waiting = any(deliveries.blocked_objects(conn, s.name) for s in self.cluster)
        behind = any(at.get(s.name, 0) < head for s in self.cluster)
        return not behind and not waiting and all(p >= head for p in self._local.values())

    def _pass(self, subscriber: Subscriber) -> int:
        now = datetime.now(UTC)
        with self.steward.db.transaction() as conn:
            position = cursors.claim(conn, subscriber.name, self.owner, now, self.lease_s)
            if position is None:
                return 0
            head = outbox.head(conn)
            events = [
                e
                for e in outbox.read_after(conn, position, subscriber.names, BATCH)
                if e.id is not None and e.id <= head
            ]
            blocked = deliveries.blocked_objects(conn, subscriber.name) if events else set()
        parked: list[tuple[DomainEvent, str, int, str]] = []
        for event in events:
            if event.object_key in blocked:
                parked.append((event, "pending", 0, "waits for an earlier event of its object"))
                continue
            error = self._deliver(subscriber, event)
            if error is not None:
                blocked.add(event.object_key)
                dead = subscriber.max_attempts <= 1 or error.startswith("UndeclaredEvent")
                parked.append((event, "failed" if dead else "pending", 1, error))
        new_position = events[-1].id if len(events) == BATCH and events[-1].id else head
        now = datetime.now(UTC)
        with self.steward.db.transaction() as conn:
            if not cursors.advance(
                conn, subscriber.name, self.owner, new_position, now, self.lease_s
            ):
                log.warning("lost the lease of %s; another process redelivers", subscriber.name)
                return 0
            for event, state, attempts, error in parked:
                wait_s = deliveries.backoff_s(attempts, self.retry_base_s) if attempts else 0.0
                deliveries.park(
                    conn,
                    subscriber.name,
                    event,
                    state=state,
                    attempts=attempts,
                    error=error,
                    next_attempt_at=now + timedelta(seconds=wait_s),
                    now=now,
                )
        return len(events) + self._retry_pass(subscriber)

    def _retry_pass(self, subscriber: Subscriber) -> int:
        now = datetime.now(UTC)
        with self.steward.db.query() as conn:
            rows = deliveries.due(conn, subscriber.name, now)
            found = outbox.read_ids(conn, [r.event_id for r in rows]) if rows else {}
        for row in rows:
            event = found.get(row.event_id)
            error = "the event is gone from the outbox" if event is None else None
            if event is not None:
                error = self._deliver(subscriber, event)
            attempts = row.attempts + 1
            if error is None:
                state, wait_s = "delivered", 0.0
            elif attempts >= subscriber.max_attempts:
                state, wait_s = "failed", 0.0
                log.error("event %s dead-lettered for %s: %s", row.event_id, subscriber.name, error)
            else:
                state, wait_s = "pending", deliveries.backoff_s(attempts, self.retry_base_s)
            now = datetime.now(UTC)
            with self.steward.db.transaction() as conn:
                if cursors.claim(conn, subscriber.name, self.owner, now, self.lease_s) is None:
                    return 0  # lost the lease meanwhile: the new holder retries
                deliveries.settle(
                    conn,
                    row.id,
                    state=state,
                    attempts=attempts,
                    error=error or "",
                    next_attempt_at=now + timedelta(seconds=wait_s),
                    now=now,
                )
        return len(rows)

    def _process_pass(self, subscriber: Subscriber) -> int:
        with self.steward.db.query() as conn:
            head = outbox.head(conn)
            events = outbox.read_after(conn, self._local[subscriber.name], subscriber.names, BATCH)
        events = [e for e in events if e.id is not None and e.id <= head]
        for event in events:
            error = self._deliver(subscriber, event)
            if error is not None:
                log.warning("event %s failed in %s: %s", event.id, subscriber.name, error)
        self._local[subscriber.name] = (
            events[-1].id if len(events) == BATCH and events[-1].id else head
        )
        return len(events)

    def _deliver(self, subscriber: Subscriber, event: DomainEvent) -> str | None:
        try:
            catalogue().type_of(event.name)
        except UndeclaredEvent as exc:
            log.warning("event %s in the outbox: %s", event.id, exc)
            return f"UndeclaredEvent: {exc}"
        steward = self.steward
        return self._handlers.call(
            subscriber.name, lambda: subscriber.handle(steward, event), subscriber.timeout_s
        )
