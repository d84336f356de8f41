"""A serving app with its background work inline (`--background inline`) fires due timers unasked."""

from __future__ import annotations

import time
from pathlib import Path

from tests.helpers import settings_for, sklearn_spec, skops_file

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.reading import version_lifecycle
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.store import save_definition
from modelsteward.lifecycle.views import RuleSpec
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version

SHORT_LIVED = """
name: short-lived
initial: trial
states:
  - name: trial
    timers:
      - {after: 1s, transition: expire}
  - name: expired
    terminal: true
transitions:
  - {name: expire, from: trial, to: expired}
"""


def register_with_timer(steward: Steward, files: Path) -> None:
    """``trial-model`` version 1, in a state whose timer falls due a second after it starts."""
    save_definition(steward, SHORT_LIVED, "yaml", SYSTEM)
    put_rules(steward, SYSTEM, [RuleSpec(priority=1, definition="short-lived")])
    create_model(steward, SYSTEM, ModelSpec(name="trial-model"))
    blob = steward.artifacts.put_file(skops_file(files))
    spec = VersionSpec.model_validate(sklearn_spec())
    register_version(steward, SYSTEM, "trial-model", spec, {"model.skops": blob})
    assert version_lifecycle(steward, "trial-model", 1).state == "trial"


def test_a_due_timer_fires_in_the_background_of_a_running_server(tmp_path: Path) -> None:
    steward = Steward(settings_for(tmp_path / "home", STEWARD_SCHEDULER_SECONDS="0.2"))
    try:
        with serve_in_thread(steward):
            register_with_timer(steward, tmp_path / "files")

            deadline = time.monotonic() + 15
            while version_lifecycle(steward, "trial-model", 1).state != "expired":
                assert time.monotonic() < deadline, "the timer never fired"
                time.sleep(0.1)
        history = version_lifecycle(steward, "trial-model", 1).history
        assert [h.transition for h in history if h.outcome == "applied"] == ["expire"]
    finally:
        steward.close()
