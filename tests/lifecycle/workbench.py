"""Builders for life cycle engine tests: people, models, versions, small definitions."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tests.helpers import sklearn_spec, skops_file

from modelsteward.context import Steward
from modelsteward.errors import Conflict, NotFound
from modelsteward.identity.users import SYSTEM, Principal, create_user
from modelsteward.lifecycle.reading import version_lifecycle
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.store import ensure_library, save_definition
from modelsteward.lifecycle.tables import LifecycleHistory, LifecycleProduction
from modelsteward.lifecycle.views import InstanceView, RuleSpec
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version

SCHEMA = {"columns": [{"name": "age", "type": "integer"}, {"name": "income", "type": "float"}]}
READY = {
    "description": "churn model",
    "input_schema": SCHEMA,
    "metrics": {"auc": 0.91},
    "tests": [{"name": "auc", "type": "metric_min", "metric": "auc", "threshold": 0.8}],
}

# What the ``regulated`` life cycle asks to see documented and measured.
DOCUMENTED = {
    "training_data": {"uri": "s3://data/churn/2026-10.parquet", "rows": 80},
    "code": {"repository": "https://git.example.com/churn", "commit": "abc1234"},
    "metrics": {"auc": 0.91, "fairness.demographic_parity_difference": 0.03},
}

# Two approvals by risk managers, an operator's deployment into production, a
# re-validation timer there, and a way out: small enough to read in a test.
GATED = """
name: gated
initial: draft
states:
  - name: draft
  - name: checked
  - name: live
    production: true
    timers:
      - {after: 90d, transition: revalidate}
  - name: review
  - name: gone
    terminal: true
transitions:
  - name: check
    from: draft
    to: checked
    gates:
      - check: metric_threshold
        params: {metric: auc, min: 0.8}
  - name: release
    from: checked
    to: live
    gates:
      - approval: {role: risk-manager, count: 2, escalate_after: 3d, escalate_to: admin}
  - name: revalidate
    from: live
    to: review
  - name: restore
    from: review
    to: live
  - name: retire
    from: [draft, checked, live, review]
    to: gone
"""

# Every step manual and ungated: for races on transitions alone.
OPEN = """
name: open
initial: new
states:
  - name: new
  - name: serving
    production: true
  - name: done
    terminal: true
transitions:
  - name: promote
    from: new
    to: serving
  - name: finish
    from: [new, serving]
    to: done
"""


def person(steward: Steward, role: str, name: str) -> Principal:
    with contextlib.suppress(Conflict):
        create_user(steward, SYSTEM, name, role)
    return Principal(name, role)


def engine(steward: Steward) -> Steward:
    """The steward with the library installed, as a server has (events reach the engine
    when a test settles them: ``tests.helpers.settle``)."""
    ensure_library(steward)
    return steward


def define(steward: Steward, text: str, *, assign: bool = True) -> None:
    """Store a definition and (by default) make it the one every model follows."""
    saved = save_definition(steward, text, "yaml", SYSTEM)
    if assign:
        put_rules(steward, SYSTEM, [RuleSpec(priority=1, definition=saved.definition.name)])


_MODEL_FILE: dict[str, Path] = {}


def model_file() -> Path:
    if "path" not in _MODEL_FILE:
        _MODEL_FILE["path"] = skops_file(Path(tempfile.mkdtemp(prefix="lc-model-")))
    return _MODEL_FILE["path"]


def register(
    steward: Steward,
    model: str = "churn",
    *,
    owner: str = "olivia",
    submitter: str = "sam",
    model_facts: dict[str, Any] | None = None,
    **spec: Any,
) -> int:
    """Register a version of ``model`` (created on first use) as ``submitter``; its number."""
    person(steward, "data-scientist", owner)  # an owner is a user
    with contextlib.suppress(Conflict):
        create_model(steward, SYSTEM, ModelSpec(name=model, owner=owner, **(model_facts or {})))
    who = person(steward, "data-scientist", submitter)
    blob = steward.artifacts.put_file(model_file())
    body = sklearn_spec(**{**READY, **spec})
    view = register_version(
        steward, who, model, VersionSpec.model_validate(body), {"model.skops": blob}
    )
    return view.version


def status(steward: Steward, model: str, version: int) -> InstanceView:
    return version_lifecycle(steward, model, version)


def has_instance(steward: Steward, model: str, version: int) -> bool:
    try:
        status(steward, model, version)
    except NotFound:
        return False
    return True


def history_count(steward: Steward) -> int:
    with steward.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(LifecycleHistory)) or 0)


def production_rows(steward: Steward) -> list[tuple[int, int]]:
    with steward.db.read() as session:
        rows = session.execute(
            select(LifecycleProduction.model_id, LifecycleProduction.instance_id)
        ).all()
        return [(r[0], r[1]) for r in rows]
