"""A process killed with SIGKILL after a change commits, before its reaction ran, or
in the middle of the reaction: after a restart the reaction happens, and once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.helpers import recorded, settings_for, settle
from tests.lifecycle.test_engine import move
from tests.lifecycle.workbench import DOCUMENTED, engine, person, register, status

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.tables import LifecycleInstance
from modelsteward.lifecycle.views import RuleSpec

OPEN = """
import os, signal, sys
from modelsteward.config import Settings
from modelsteward.context import Steward
steward = Steward(Settings.from_env({"STEWARD_HOME": sys.argv[1], "STEWARD_DB_URL": sys.argv[2]}))
"""
REGISTER_THEN_DIE = (
    OPEN
    + """
from tests.lifecycle.workbench import register
register(steward)  # committed: version.registered is in the outbox
os.kill(os.getpid(), signal.SIGKILL)  # before any dispatcher handed it on
"""
)
BREACH_THEN_DIE = (
    OPEN
    + """
import json
with steward.change("system:monitor") as change:
    change.record("metric.breached", "monitor", "7", after=json.loads(sys.argv[3]))
os.kill(os.getpid(), signal.SIGKILL)
"""
)
DIE_INSIDE_THE_REACTION = (
    OPEN
    + """
from dataclasses import replace
from modelsteward.events.dispatcher import Dispatcher
from modelsteward.lifecycle.reactions import START_ON_REGISTRATION, start_registered
from tests.lifecycle.workbench import register

def start_then_die(steward, event):
    start_registered(steward, event)  # the instance is started and committed...
    os.kill(os.getpid(), signal.SIGKILL)  # ...but the cursor never moves past the event

register(steward)
Dispatcher(steward, subscribers=[replace(START_ON_REGISTRATION, handle=start_then_die)]).settle()
"""
)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Steward]:
    db_url = request.getfixturevalue("pg_database") if request.param == "postgresql" else None
    steward = engine(Steward(settings_for(tmp_path / "home", db_url)))
    yield steward
    steward.close()


def killed(steward: Steward, script: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", script, str(steward.settings.home), steward.db.url, *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == -9, done.stderr[-3000:]


def instances(steward: Steward) -> int:
    with steward.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(LifecycleInstance)) or 0)


def test_a_version_registered_just_before_a_kill_starts_its_life_cycle_once_after(
    store: Steward,
) -> None:
    killed(store, REGISTER_THEN_DIE)
    assert instances(store) == 0 and len(recorded(store, "version.registered")) == 1
    settle(store)  # the restarted worker's dispatcher
    settle(store)
    assert instances(store) == 1 and len(recorded(store, "lifecycle.started")) == 1


def test_a_kill_in_the_middle_of_the_reaction_is_redelivered_and_still_starts_once(
    store: Steward,
) -> None:
    killed(store, DIE_INSIDE_THE_REACTION)
    assert instances(store) == 1  # the reaction's effect committed before the kill
    settle(store)  # redelivered: the cursor had not moved
    assert instances(store) == 1 and len(recorded(store, "lifecycle.started")) == 1


def test_a_breach_committed_just_before_a_kill_sends_the_regulated_version_to_revalidation(
    store: Steward,
) -> None:
    put_rules(store, SYSTEM, [RuleSpec(priority=1, definition="regulated", risk_tier="high")])
    facts = {"description": "credit risk", "use_case": "loan decisions", "risk_tier": "high"}
    version = register(store, "credit", model_facts=facts, **DOCUMENTED)
    vic = person(store, "risk-manager", "vic")
    rita, raj = person(store, "risk-manager", "rita"), person(store, "risk-manager", "raj")
    assert move(store, "credit", version, "submit") == "applied"
    assert move(store, "credit", version, "validate") == "waiting"
    decide(store, status(store, "credit", version).open_tasks[0].id, vic, "approve")
    assert move(store, "credit", version, "approve") == "waiting"
    task = status(store, "credit", version).open_tasks[0].id
    decide(store, task, rita, "approve")
    decide(store, task, raj, "approve")
    assert move(store, "credit", version, "deploy") == "applied"
    settle(store)
    assert status(store, "credit", version).state == "production"
    breach = {
        "model": "credit",
        "deployment": "credit-production",
        "monitor": "data-drift",
        "monitor_id": 7,
        "type": "data_drift",
        "run_id": 1,
        "metric": "drift_share",
        "column": "",
        "segment": "",
        "version": version,
        "value": 0.6,
        "threshold": 0.5,
        "low": None,
        "high": None,
        "window_end": "2026-12-07T12:00:00+00:00",
    }
    killed(store, BREACH_THEN_DIE, json.dumps(breach))
    assert status(store, "credit", version).state == "production"
    settle(store)
    settle(store)
    moved = status(store, "credit", version)
    assert moved.state == "revalidation"
    assert [h.transition for h in moved.history].count("breach") == 1
