"""A pipeline's cron schedule requests one run per due slot, once however many replicas
look, and the slot survives a restart (it is in the database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.training.conftest import DETERMINISTIC, pipeline_of, write_data, write_source

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.identity.users import SYSTEM
from modelsteward.training.cron import parse_cron
from modelsteward.training.pipelines import create_pipeline, get_pipeline
from modelsteward.training.runs import list_runs
from modelsteward.training.schedules import request_due

UTC_NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("expression", "after", "due"),
    [
        ("*/15 * * * *", UTC_NOON, UTC_NOON + timedelta(minutes=15)),
        ("0 3 * * *", UTC_NOON, datetime(2026, 12, 8, 3, 0, tzinfo=UTC)),
        ("30 2 * * 1", UTC_NOON, datetime(2026, 12, 14, 2, 30, tzinfo=UTC)),
        ("0 0 1 1 *", UTC_NOON, datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        ("0 0 29 2 *", UTC_NOON, datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
    ],
)
def test_a_cron_expression_falls_due_at_its_next_minute(
    expression: str, after: datetime, due: datetime
) -> None:
    assert parse_cron(expression).next_after(after) == due


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * *", "five fields"),
        ("61 * * * *", "outside 0-59 in the minute field"),
        ("x * * * *", "not a number"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(
    credit: Steward, tmp_path: Path, expression: str, message: str
) -> None:
    spec = pipeline_of(write_source(tmp_path / "s", DETERMINISTIC), write_data(tmp_path / "d.csv"))
    with pytest.raises(InvalidInput, match=f"schedule: .*{message}"):
        create_pipeline(credit, SYSTEM, "credit", {**spec, "schedule": expression})


def test_a_due_schedule_requests_one_run_per_slot_however_many_replicas_look(
    credit: Steward, tmp_path: Path
) -> None:
    spec = pipeline_of(write_source(tmp_path / "s", DETERMINISTIC), write_data(tmp_path / "d.csv"))
    created = create_pipeline(credit, SYSTEM, "credit", {**spec, "schedule": "0 3 * * *"})
    slot = datetime.fromisoformat(created["next_run_at"])
    assert slot > datetime.now(UTC) and (slot.hour, slot.minute) == (3, 0)
    assert request_due(credit) == 0  # not due yet
    later = slot + timedelta(minutes=5)
    assert request_due(credit, now=later) == 1
    assert request_due(credit, now=later) == 0  # a second replica finds the slot taken
    runs = list_runs(credit, model="credit")
    assert len(runs) == 1 and runs[0]["cause"] == f"schedule 0 3 * * * at {slot.isoformat()}"
    following = datetime.fromisoformat(get_pipeline(credit, "credit")["next_run_at"])
    assert following == slot + timedelta(days=1)
