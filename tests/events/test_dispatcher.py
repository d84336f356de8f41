"""The dispatcher delivers every committed event at least once to every subscriber that
wants it, in commit order per object; failures are retried, then dead-lettered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from tests.helpers import settings_for

from modelsteward.context import Steward
from modelsteward.events import deliveries
from modelsteward.events.dispatcher import Dispatcher
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import Subscriber
from modelsteward.events.tables import OutboxEvent

FAST = {"STEWARD_EVENTS_RETRY_SECONDS": "0.01", "STEWARD_EVENTS_LEASE_SECONDS": "1"}


@dataclass
class Heard:
    """A subscriber that remembers what it was handed, and fails while told to."""

    name: str
    events: frozenset[str] = frozenset({"model.created", "model.updated"})
    failing: set[str] = field(default_factory=set)
    heard: list[tuple[str, str]] = field(default_factory=list)
    max_attempts: int = 3
    timeout_s: float = 5.0

    def handle(self, _: Steward, event: DomainEvent) -> None:
        if event.object_id in self.failing:
            raise RuntimeError(f"cannot handle {event.object_id}")
        self.heard.append((event.name, event.object_id))

    @property
    def subscriber(self) -> Subscriber:
        return Subscriber(
            name=self.name,
            description="test",
            events=self.events,
            handle=self.handle,
            max_attempts=self.max_attempts,
            timeout_s=self.timeout_s,
        )


@pytest.fixture
def fast(tmp_path: Path) -> Iterator[Steward]:
    """A steward whose retries come at once and whose leases run out in a second."""
    steward = Steward(settings_for(tmp_path / "home", **FAST))
    yield steward
    steward.close()


def created(steward: Steward, *names: str) -> None:
    for name in names:
        payload = {
            "name": name,
            "status": "active",
            **dict.fromkeys(("description", "owner", "team", "use_case"), ""),
            "risk_tier": "medium",
            "tags": {},
        }
        with steward.change("ana") as change:
            change.record("model.created", "model", name, after=payload)


def failed_rows(steward: Steward, state: str | None = "failed") -> list[dict[str, object]]:
    with steward.db.query() as conn:
        return deliveries.listing(conn, state, None, 100)


def test_each_subscriber_gets_every_event_it_wants_once_in_commit_order(fast: Steward) -> None:
    one, two = Heard("test.one"), Heard("test.two", events=frozenset({"*"}))
    dispatcher = Dispatcher(fast, subscribers=[one.subscriber, two.subscriber])
    created(fast, "a", "b", "c")
    assert dispatcher.settle()
    assert one.heard == [("model.created", "a"), ("model.created", "b"), ("model.created", "c")]
    assert two.heard == one.heard
    assert dispatcher.settle() and len(one.heard) == 3  # a second pass delivers nothing again


def test_a_failing_subscriber_is_retried_then_dead_lettered_and_the_others_go_on(
    fast: Steward,
) -> None:
    flaky, steady = Heard("test.flaky", failing={"b"}), Heard("test.steady")
    dispatcher = Dispatcher(fast, subscribers=[flaky.subscriber, steady.subscriber])
    created(fast, "a", "b", "c")
    assert dispatcher.settle()
    assert steady.heard == [("model.created", n) for n in "abc"]
    assert flaky.heard == [("model.created", n) for n in "ac"]
    [dead] = failed_rows(fast)
    assert (dead["subscriber"], dead["object_id"], dead["attempts"]) == ("test.flaky", "b", 3)
    assert "RuntimeError: cannot handle b" in str(dead["last_error"])


def test_a_dead_letter_is_sent_again_by_hand_and_then_delivered(fast: Steward) -> None:
    flaky = Heard("test.flaky", failing={"b"})
    dispatcher = Dispatcher(fast, subscribers=[flaky.subscriber])
    created(fast, "b")
    assert dispatcher.settle()
    [dead] = failed_rows(fast)
    flaky.failing.clear()
    with fast.db.transaction() as conn:
        assert deliveries.requeue(conn, int(str(dead["event_id"])), None, dead["updated_at"]) == 1  # type: ignore[arg-type]
    assert dispatcher.settle()
    assert flaky.heard == [("model.created", "b")]
    assert [r["state"] for r in failed_rows(fast, None)] == ["delivered"]


def test_later_events_of_an_object_wait_behind_its_failed_one(fast: Steward) -> None:
    """Per-object order holds across retries: b's update never overtakes b's creation."""
    flaky = Heard("test.flaky", failing={"b"}, max_attempts=50)
    dispatcher = Dispatcher(fast, subscribers=[flaky.subscriber])
    created(fast, "b", "c")
    dispatcher.run_once()
    payload = {"name": "b", "status": "active", "risk_tier": "high", "tags": {}}
    payload |= dict.fromkeys(("description", "owner", "team", "use_case"), "")
    with fast.change("ana") as change:
        change.record("model.updated", "model", "b", after=payload)
    dispatcher.run_once()
    assert flaky.heard == [("model.created", "c")]  # b's update waits behind its creation
    flaky.failing.clear()
    assert dispatcher.settle()
    assert flaky.heard == [("model.created", "c"), ("model.created", "b"), ("model.updated", "b")]


def test_a_hanging_subscriber_times_out_and_the_next_event_goes_on(fast: Steward) -> None:
    release = threading.Event()
    heard: list[str] = []

    def hang_on_a(_: Steward, event: DomainEvent) -> None:
        if event.object_id == "a" and not release.is_set():
            release.wait(60)
        heard.append(event.object_id)

    slow = Subscriber("test.slow", "test", frozenset({"model.created"}), hang_on_a, timeout_s=0.3)
    dispatcher = Dispatcher(fast, subscribers=[slow])
    created(fast, "a", "b")
    dispatcher.run_once()
    assert heard == ["b"]
    [waiting] = failed_rows(fast, "pending")
    assert "did not return within 0.3 s" in str(waiting["last_error"])
    release.set()
    assert dispatcher.settle()
    assert sorted(heard) == ["a", "a", "b"]  # at least once: the hung call finished too


def test_an_unknown_event_name_in_the_outbox_is_reported_and_never_stops_dispatch(
    fast: Steward,
) -> None:
    everything = Heard("test.all", events=frozenset({"*"}))
    dispatcher = Dispatcher(fast, subscribers=[everything.subscriber])
    with fast.db.transaction() as conn:
        conn.execute(
            insert(OutboxEvent),
            {
                "name": "model.exploded",
                "actor": "x",
                "object_type": "model",
                "object_id": "z",
                "payload": {},
            },
        )
    created(fast, "a")
    assert dispatcher.settle()
    assert everything.heard == [("model.created", "a")]
    [dead] = failed_rows(fast)
    assert dead["event"] == "model.exploded" and "not declared" in str(dead["last_error"])


def test_a_second_dispatcher_waits_for_the_lease_and_takes_over_when_it_runs_out(
    fast: Steward,
) -> None:
    first, second = Heard("test.shared"), Heard("test.shared")
    holder = Dispatcher(fast, subscribers=[first.subscriber])
    other = Dispatcher(fast, subscribers=[second.subscriber])
    created(fast, "a")
    holder.run_once()
    created(fast, "b")
    assert other.run_once() == 0  # the lease is the first one's for a second
    assert other.settle(timeout_s=30)  # the first one died: its lease ran out
    assert first.heard == [("model.created", "a")]
    assert second.heard == [("model.created", "b")]


def test_a_process_subscriber_starts_at_the_head_and_hears_what_comes_after(
    fast: Steward,
) -> None:
    local = Heard("test.local")
    routes = Subscriber("test.local", "test", local.events, local.handle, scope="process")
    created(fast, "before")
    dispatcher = Dispatcher(fast, subscribers=[routes])
    dispatcher.prepare()
    created(fast, "after")
    assert dispatcher.settle()
    assert local.heard == [("model.created", "after")]


def test_a_running_dispatcher_is_woken_by_a_commit_of_this_process(tmp_path: Path) -> None:
    slow_poll = Steward(settings_for(tmp_path / "home", STEWARD_EVENTS_POLL_SECONDS="600"))
    arrived = threading.Event()
    heard = Subscriber("test.bell", "test", frozenset({"model.created"}), lambda *_: arrived.set())
    dispatcher = Dispatcher(slow_poll, subscribers=[heard])
    dispatcher.start()
    try:
        dispatcher.run_once()
        created(slow_poll, "a")
        assert arrived.wait(30), "the commit did not wake the dispatcher (it polls every 600 s)"
    finally:
        dispatcher.stop()
        slow_poll.close()


def test_on_postgresql_a_commit_in_another_process_wakes_the_dispatcher_at_once(
    tmp_path: Path, pg_database: str
) -> None:
    """LISTEN/NOTIFY: ``writer`` stands for another process (its own engine and doorbell)."""
    listening = Steward(
        settings_for(tmp_path / "a", pg_database, STEWARD_EVENTS_POLL_SECONDS="600")
    )
    writer = Steward(settings_for(tmp_path / "b", pg_database))
    arrived = threading.Event()
    heard = Subscriber("test.bell", "test", frozenset({"model.created"}), lambda *_: arrived.set())
    dispatcher = Dispatcher(listening, subscribers=[heard])
    dispatcher.start()
    try:
        assert dispatcher._listener is not None and dispatcher._listener.connected.wait(30)
        dispatcher.run_once()
        created(writer, "a")
        assert arrived.wait(30), "NOTIFY did not wake the dispatcher (it polls every 600 s)"
    finally:
        dispatcher.stop()
        listening.close()
        writer.close()


def test_dispatch_goes_on_after_the_database_drops_every_connection(
    tmp_path: Path, pg_database: str
) -> None:
    """What a database restart does to a running dispatcher: its pooled connections and
    its listening one are cut; it reconnects and delivers what was committed since."""
    steward = Steward(settings_for(tmp_path / "a", pg_database, STEWARD_EVENTS_POLL_SECONDS="0.1"))
    names: list[str] = []
    heard = Subscriber(
        "test.restart", "test", frozenset({"model.created"}), lambda _, e: names.append(e.object_id)
    )
    dispatcher = Dispatcher(steward, subscribers=[heard])
    dispatcher.start()
    try:
        created(steward, "before")
        wait_for(lambda: names == ["before"])
        with steward.db.engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            conn.commit()
        created(steward, "after")
        wait_for(lambda: names == ["before", "after"])
    finally:
        dispatcher.stop()
        steward.close()


def wait_for(condition: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)
