"""The scheduler keeps time for periodic jobs; the jobs claim their own work."""

from __future__ import annotations

import threading

import pytest

from modelsteward.scheduler import Scheduler


def test_each_job_runs_on_its_own_interval() -> None:
    calls: list[str] = []
    scheduler = Scheduler(tick_s=1)
    scheduler.add("fast", lambda: calls.append("fast") or 1, interval_s=1)
    scheduler.add("slow", lambda: calls.append("slow") or 2, interval_s=10)

    assert scheduler.run_due(now=100.0) == 3
    assert scheduler.run_due(now=100.5) == 0
    assert scheduler.run_due(now=101.0) == 1
    assert scheduler.run_due(now=110.0) == 3
    assert calls == ["fast", "slow", "fast", "fast", "slow"]
    assert scheduler.stats()["fast"]["runs"] == 3
    assert scheduler.stats()["slow"]["handled"] == 4


def test_a_failing_job_is_counted_and_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> int:
        raise RuntimeError("database went away")

    scheduler = Scheduler(tick_s=1)
    scheduler.add("broken", broken)
    scheduler.add("healthy", lambda: 5)

    assert scheduler.run_due(now=0.0) == 5
    stats = scheduler.stats()
    assert stats["broken"]["failures"] == 1
    assert stats["broken"]["last_error"] == "RuntimeError: database went away"
    assert stats["healthy"]["handled"] == 5
    assert "scheduled job broken failed" in caplog.text


def test_the_background_thread_runs_jobs_until_stopped() -> None:
    ran = threading.Event()
    count = 0

    def job() -> int:
        nonlocal count
        count += 1
        if count >= 3:
            ran.set()
        return 1

    scheduler = Scheduler(tick_s=0.01)
    scheduler.add("job", job)
    scheduler.start()
    try:
        assert ran.wait(5)
    finally:
        scheduler.stop()
    after_stop = count
    assert not any(t.name == "steward-scheduler" for t in threading.enumerate())
    assert count == after_stop


def test_a_tick_of_zero_switches_the_scheduler_off() -> None:
    scheduler = Scheduler(tick_s=0)
    scheduler.add("job", lambda: 1, interval_s=1)
    scheduler.start()
    assert not scheduler.enabled
    assert not any(t.name == "steward-scheduler" for t in threading.enumerate())
    scheduler.stop()


def test_two_jobs_cannot_share_a_name() -> None:
    scheduler = Scheduler()
    scheduler.add("timers", lambda: 0)
    with pytest.raises(ValueError, match="already scheduled"):
        scheduler.add("timers", lambda: 0)
