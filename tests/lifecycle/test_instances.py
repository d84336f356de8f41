"""When an instance starts: off the registration path, on first read, or by the scheduler."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from tests.helpers import settle
from tests.lifecycle.workbench import OPEN, define, engine, register, status

from modelsteward.context import Steward
from modelsteward.events.dispatcher import Dispatcher
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.store import ensure_library
from modelsteward.lifecycle.tables import LifecycleInstance
from modelsteward.registry.versions import set_version_status

AUTO = """
name: auto
initial: new
states:
  - name: new
    timers:
      - {after: 30d, transition: finish}
  - name: ready
  - name: done
    terminal: true
transitions:
  - {name: prepare, from: new, to: ready, trigger: auto}
  - {name: finish, from: [new, ready], to: done}
"""


def instances(steward: Steward) -> int:
    with steward.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(LifecycleInstance)) or 0)


def test_a_registered_version_starts_in_the_background_without_being_read(
    any_steward: Steward,
) -> None:
    steward = engine(any_steward)
    dispatcher = Dispatcher(steward, scopes=("cluster",))
    dispatcher.start()
    try:
        register(steward)
        deadline = time.monotonic() + 30
        while instances(steward) == 0:
            assert time.monotonic() < deadline, "the background start never happened"
            time.sleep(0.05)
    finally:
        dispatcher.stop()
    assert status(steward, "churn", 1).state == "registered"


def test_the_first_read_starts_a_version_registered_while_no_engine_listened(
    any_steward: Steward,
) -> None:
    ensure_library(any_steward)
    define(any_steward, AUTO)
    register(any_steward)
    assert instances(any_steward) == 0
    started = status(any_steward, "churn", 1)
    assert started.state == "ready", "the auto transition of the initial state ran"
    assert [h.outcome for h in started.history] == ["started", "applied"]
    assert status(any_steward, "churn", 1).id == started.id
    assert instances(any_steward) == 1


def test_versions_registered_while_no_dispatcher_ran_start_once_one_runs(
    any_steward: Steward,
) -> None:
    ensure_library(any_steward)
    define(any_steward, OPEN)
    for _ in range(5):
        register(any_steward)
    set_version_status(any_steward, SYSTEM, "churn", 5, "archived")
    assert instances(any_steward) == 0
    settle(any_steward)
    settle(any_steward)  # delivered once: a second pass starts nothing more
    assert instances(any_steward) == 4, "an archived version that never started stays so"
    assert {status(any_steward, "churn", n).state for n in range(1, 5)} == {"new"}
