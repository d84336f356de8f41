"""`steward events`: a delivery that failed is visible, counted on /metrics, and sent
again by hand; the catalogue and the subscribers can be read."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.cli.test_cli import steward_cli
from tests.helpers import token_for

from modelsteward.context import Steward
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import SUBSCRIBERS, Subscriber


class Refusing:
    """A subscriber that refuses ``model.created`` until told to accept."""

    def __init__(self) -> None:
        self.accepting = False
        self.accepted: list[str] = []

    def handle(self, _: Steward, event: DomainEvent) -> None:
        if not self.accepting:
            raise ConnectionError("the ticketing system is down")
        self.accepted.append(event.object_id)


@pytest.fixture
def refusing(steward: Steward) -> Iterator[Refusing]:
    """Registered before the server starts, so its dispatcher delivers to it."""
    refusing = Refusing()
    SUBSCRIBERS.register(
        Subscriber(
            "test.ticketing",
            "Opens a ticket per new model (a test double).",
            frozenset({"model.created"}),
            refusing.handle,
            max_attempts=1,
        )
    )
    yield refusing
    SUBSCRIBERS.unregister("test.ticketing")


def until(condition: object, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


def failed(env: dict[str, str]) -> list[dict[str, object]]:
    done = steward_cli("events", "list", "--state", "failed", "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_dead_letter_is_listed_counted_and_delivered_when_sent_again(
    refusing: Refusing, env: dict[str, str], steward: Steward
) -> None:
    headers = {"Authorization": f"Bearer {env['STEWARD_TOKEN']}"}
    with httpx.Client(base_url=env["STEWARD_URL"], headers=headers) as api:
        assert api.post("/api/v1/models", json={"name": "churn"}).status_code == 201
        until(lambda: failed(env) != [])
        [dead] = failed(env)
        assert (dead["event"], dead["object_id"], dead["subscriber"]) == (
            "model.created",
            "churn",
            "test.ticketing",
        )
        assert "ConnectionError: the ticketing system is down" in str(dead["last_error"])
        metrics = api.get("/metrics").text
        assert 'steward_event_deliveries{state="failed",subscriber="test.ticketing"} 1.0' in metrics

        table = steward_cli("events", "list", "--state", "failed", env=env)
        assert "test.ticketing" in table.stdout and "ticketing system is down" in table.stdout
        refusing.accepting = True
        sent = steward_cli("events", "retry", str(dead["event_id"]), env=env)
        assert sent.returncode == 0, sent.stderr
        assert "1 delivery(ies) queued again" in sent.stdout
        until(lambda: refusing.accepted == ["churn"])
        until(lambda: failed(env) == [])
        again = steward_cli("events", "retry", str(dead["event_id"]), env=env)
        assert again.returncode != 0 and "no failed delivery to retry" in again.stderr
        audit = api.get("/api/v1/audit", params={"object_type": "event"}).json()
        assert [a["action"] for a in audit] == ["event.retried"]


def test_a_viewer_may_not_send_events_again(steward: Steward, server: str) -> None:
    viewer = token_for(steward, "viewer")
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {viewer}"}) as api:
        refused = api.post("/api/v1/events/1/retry")
    assert refused.status_code == 403 and "events.redeliver" in refused.json()["error"]["message"]


def test_the_catalogue_and_the_subscribers_can_be_read(env: dict[str, str]) -> None:
    catalogue = steward_cli("events", "catalogue", "--json", env=env)
    names = {e["name"]: e for e in json.loads(catalogue.stdout)}
    assert "metric.breached" in names and "version.registered" in names
    assert "threshold" in names["metric.breached"]["payload"]["properties"]
    subscribers = steward_cli("events", "subscribers", env=env)
    assert subscribers.returncode == 0
    for name in ("lifecycle.start", "lifecycle.triggers", "monitoring.defaults"):
        assert name in subscribers.stdout
