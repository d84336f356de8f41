"""The life cycle's subscribers, delivered by the outbox dispatcher (once per cluster).

``lifecycle.start`` starts the instance of each registered version: durable, so a
process that dies between registering and starting loses nothing (no catch-up sweep).
``lifecycle.triggers`` feeds every event to the transitions whose trigger names it.
Both are idempotent by event id: an instance is unique per version, and a transition
only applies from the states it names.
"""

from __future__ import annotations

import weakref

from modelsteward.context import Steward
from modelsteward.events.domain import DomainEvent
from modelsteward.events.subscribers import Subscriber
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.engine import Triggers, on_event
from modelsteward.lifecycle.instances import start_instance

_triggers: weakref.WeakKeyDictionary[Steward, Triggers] = weakref.WeakKeyDictionary()


def start_registered(steward: Steward, event: DomainEvent) -> None:
    model, _, number = event.object_id.rpartition("/")
    if model and number.isdecimal():
        start_instance(steward, model, int(number), SYSTEM)


def take_triggered(steward: Steward, event: DomainEvent) -> None:
    triggers = _triggers.get(steward)
    if triggers is None:
        triggers = _triggers[steward] = Triggers()
    on_event(steward, event, triggers)


START_ON_REGISTRATION = Subscriber(
    name="lifecycle.start",
    description="Starts the life cycle instance of each registered version.",
    events=frozenset({"version.registered"}),
    handle=start_registered,
)
TRANSITIONS_ON_EVENTS = Subscriber(
    name="lifecycle.triggers",
    description="Takes the transitions whose trigger names the event (event:NAME).",
    events=frozenset({"*"}),
    handle=take_triggered,
)
