"""Evaluating a transition's gates: checks run, approvals counted.

Checks run outside any transaction (they may be slow: a version's tests, a scan);
each verdict becomes a ``GateResult`` that the history keeps whatever the outcome.
A check that cannot run (renamed, broken params, an exception) fails its gate with a
reason; it never passes by accident.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelsteward.audit.chain import canonical_json
from modelsteward.context import Steward
from modelsteward.errors import StewardError
from modelsteward.lifecycle.checks.registry import CheckContext, CheckResult, get_check
from modelsteward.lifecycle.snapshot import Snapshot
from modelsteward.lifecycle.spec import ApprovalGate, CheckGate, TransitionSpec
from modelsteward.lifecycle.tables import LifecycleDecision, LifecycleTask
from modelsteward.lifecycle.views import GateResult
from modelsteward.registry.models import get_model
from modelsteward.registry.versions import get_version

log = logging.getLogger(__name__)


def plain(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as JSON gives it back (what a JSON column stores)."""
    result: dict[str, Any] = json.loads(canonical_json(value))
    return result


def run_checks(steward: Steward, snap: Snapshot, transition: TransitionSpec) -> list[GateResult]:
    """Every check gate's verdict, in the order written."""
    gates = [(i, g) for i, g in enumerate(transition.gates) if isinstance(g, CheckGate)]
    if not gates:
        return []
    model = get_model(steward, snap.model)
    version = get_version(steward, snap.model, snap.version)
    results = []
    for index, gate in gates:
        context = CheckContext(
            steward=steward, model=model, version=version, instance_id=snap.id, params=gate.params
        )
        verdict = _evaluate(gate, context)
        results.append(
            GateResult(
                index=index,
                kind="check",
                name=gate.check,
                passed=verdict.passed,
                summary=verdict.summary,
                details=plain(verdict.details),
            )
        )
    return results


def _evaluate(gate: CheckGate, context: CheckContext) -> CheckResult:
    try:
        return get_check(gate.check).evaluate(context)
    except StewardError as exc:
        return CheckResult(False, exc.message)
    except Exception as exc:  # a broken check fails its gate; it must not pass or crash
        log.exception("check %s failed to run", gate.check)
        return CheckResult(False, f"check {gate.check!r} failed to run: {type(exc).__name__}")


def approval_progress(
    session: Session, snap: Snapshot, transition: TransitionSpec
) -> tuple[list[GateResult], list[tuple[int, ApprovalGate]]]:
    """Each approval gate's standing in this visit, and the gates that still need a task."""
    tasks = session.scalars(
        select(LifecycleTask).where(
            LifecycleTask.instance_id == snap.id,
            LifecycleTask.visit == snap.visit,
            LifecycleTask.transition == transition.name,
            LifecycleTask.status.in_(("open", "approved")),
        )
    ).all()
    by_gate: dict[int, LifecycleTask] = {}
    for found in tasks:
        if found.status == "approved" or found.gate_index not in by_gate:
            by_gate[found.gate_index] = found
    results: list[GateResult] = []
    missing: list[tuple[int, ApprovalGate]] = []
    for index, gate in enumerate(transition.gates):
        if not isinstance(gate, ApprovalGate):
            continue
        task = by_gate.get(index)
        if task is None:
            missing.append((index, gate))
            results.append(_approval(index, gate, False, f"needs {gate.count} approval(s)"))
        elif task.status == "approved":
            results.append(_approval(index, gate, True, f"approved (task {task.id})", task.id))
        else:
            done = approvals_of(session, task.id)
            summary = f"{done} of {task.needed} approval(s) (task {task.id})"
            results.append(_approval(index, gate, False, summary, task.id))
    return results, missing


def _approval(
    index: int, gate: ApprovalGate, passed: bool, summary: str, task: int | None = None
) -> GateResult:
    details: dict[str, Any] = {"role": gate.role, "count": gate.count}
    if task is not None:
        details["task"] = task
    return GateResult(
        index=index,
        kind="approval",
        name=gate.role,
        passed=passed,
        summary=f"{gate.role}: {summary}",
        details=details,
    )


def approvals_of(session: Session, task_id: int) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(LifecycleDecision)
        .where(LifecycleDecision.task_id == task_id, LifecycleDecision.decision == "approve")
    )
    return int(count or 0)
