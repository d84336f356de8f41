"""Revision timelines: five stages always shown, failures red, rollbacks marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from modelsteward.serving.views import RevisionView, StepView
from modelsteward.web.rollout_timeline import failure, rollback_target, timeline

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def revision(status: str, steps: list[tuple[str, str]], reason: str = "deploy v2") -> RevisionView:
    recorded = [
        StepView(
            revision=2,
            step=name,
            status=state,
            detail=f"{name} detail",
            started_at=T0 + timedelta(seconds=i),
            finished_at=T0 + timedelta(seconds=i, milliseconds=250),
        )
        for i, (name, state) in enumerate(steps)
    ]
    fields: dict[str, Any] = {
        "deployment": "churn-production",
        "revision": 2,
        "strategy": "direct",
        "routes": [],
        "reason": reason,
        "status": status,
        "created_by": "admin",
        "created_at": T0,
        "finished_at": None,
        "steps": recorded,
    }
    return RevisionView(**fields)


def states(view: RevisionView) -> list[tuple[str, str]]:
    return [(s.name, s.state) for s in timeline(view)]


def test_an_applied_revision_shows_five_passed_stages_with_durations() -> None:
    view = revision("applied", [(s, "ok") for s in ("load", "verify", "smoke", "ready", "switch")])
    stages = timeline(view)
    assert [s.state for s in stages] == ["ok"] * 5
    assert stages[0].took == "0.25 s" and stages[0].detail == "load detail"
    assert failure(view) is None


def test_a_failed_stage_is_followed_by_skipped_ones_and_the_rollback() -> None:
    view = revision(
        "rolled_back", [("load", "ok"), ("verify", "ok"), ("smoke", "failed"), ("rollback", "ok")]
    )
    assert states(view) == [
        ("load", "ok"),
        ("verify", "ok"),
        ("smoke", "failed"),
        ("ready", "skipped"),
        ("switch", "skipped"),
        ("rollback", "rollback"),
    ]
    failed = failure(view)
    assert failed is not None and failed.name == "smoke"


def test_a_running_revision_shows_where_it_is() -> None:
    view = revision("running", [("load", "ok")])
    assert states(view) == [
        ("load", "ok"),
        ("verify", "running"),
        ("smoke", "waiting"),
        ("ready", "waiting"),
        ("switch", "waiting"),
    ]
    assert [s.state for s in timeline(revision("pending", []))] == ["waiting"] * 5


def test_a_manual_rollback_names_its_target() -> None:
    assert rollback_target(revision("applied", [], "rollback to revision 7")) == 7
    assert rollback_target(revision("applied", [], "challenger traffic 10%")) is None
