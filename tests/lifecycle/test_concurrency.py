"""The engine's invariants under concurrency: one transition per revision, one version in production."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select
from tests.lifecycle.workbench import GATED, OPEN, define, engine, person, register, status

from modelsteward.context import Steward
from modelsteward.errors import Conflict, StewardError
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.tables import LifecycleInstance, LifecycleProduction
from modelsteward.lifecycle.transitions import transition

THREADS = 16


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call at once (a barrier releases them together); results or errors."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except StewardError as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_sixteen_requests_for_one_transition_move_the_instance_once(
    any_steward: Steward,
) -> None:
    engine(any_steward)
    define(any_steward, OPEN)
    register(any_steward)
    read = status(any_steward, "churn", 1)
    results = race(
        [
            lambda: transition(any_steward, read.id, "promote", SYSTEM, read.revision)
            for _ in range(THREADS)
        ]
    )
    applied = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(applied) == 1 and applied[0].outcome == "applied"
    assert len(refused) == THREADS - 1 and all(isinstance(r, Conflict) for r in refused)
    after = status(any_steward, "churn", 1)
    assert (after.state, after.revision) == ("serving", read.revision + 1)
    moves = [h for h in after.history if h.outcome == "applied"]
    assert [(h.transition, h.from_state, h.to_state) for h in moves] == [
        ("promote", "new", "serving")
    ]


def test_sixteen_approvers_racing_on_one_task_complete_it_once(any_steward: Steward) -> None:
    engine(any_steward)
    define(any_steward, GATED)
    register(any_steward)
    for name in ("check", "release"):
        current = status(any_steward, "churn", 1)
        transition(any_steward, current.id, name, SYSTEM, current.revision)
    task = status(any_steward, "churn", 1).open_tasks[0]
    approvers = [person(any_steward, "risk-manager", f"risk{i}") for i in range(THREADS)]
    results = race(
        [lambda who=who: decide(any_steward, task.id, who, "approve") for who in approvers]
    )
    decided = [r for r in results if not isinstance(r, Exception)]
    assert len(decided) == task.needed == 2
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))
    completed = [r.completed for r in decided if r.completed is not None]
    assert [c.outcome for c in completed] == ["applied"]
    after = status(any_steward, "churn", 1)
    assert after.state == "live"
    applied = Counter(h.transition for h in after.history if h.outcome == "applied")
    assert applied == {"check": 1, "release": 1}


def test_versions_racing_into_production_never_make_two_production_versions(
    any_steward: Steward,
) -> None:
    engine(any_steward)
    define(any_steward, OPEN)
    versions = [register(any_steward) for _ in range(8)]
    watching, seen = threading.Event(), []

    def watch() -> None:
        while not watching.is_set():
            with any_steward.db.read() as session:
                rows = session.scalar(select(func.count()).select_from(LifecycleProduction))
                serving = session.scalar(
                    select(func.count())
                    .select_from(LifecycleInstance)
                    .where(LifecycleInstance.state == "serving")
                )
            seen.append((rows, serving))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        remaining = list(versions)
        for _ in range(3):
            reads = [status(any_steward, "churn", v) for v in remaining]
            results = race(
                [
                    lambda read=read: transition(
                        any_steward, read.id, "promote", SYSTEM, read.revision
                    )
                    for read in reads
                ]
            )
            winners = [
                read.version
                for read, result in zip(reads, results, strict=True)
                if not isinstance(result, Exception)
            ]
            assert len(winners) == 1
            assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))
            winner = status(any_steward, "churn", winners[0])
            transition(any_steward, winner.id, "finish", SYSTEM, winner.revision)
            remaining.remove(winners[0])
    finally:
        watching.set()
        watcher.join()
    assert seen and all(rows <= 1 and serving <= 1 for rows, serving in seen)
    finished = [v for v in versions if status(any_steward, "churn", v).state == "done"]
    assert len(finished) == 3
