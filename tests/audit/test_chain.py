"""The audit trail is append-only and hash-chained: tampering is detected where it happened."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from tests.helpers import people, recorded

from modelsteward.audit import chain as audit
from modelsteward.audit.chain import is_plain_json, verify_chain
from modelsteward.audit.trail import list_events
from modelsteward.context import Steward
from modelsteward.events.catalogue import UndeclaredEvent
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.models import create_model, update_model
from modelsteward.registry.specs import ModelSpec, ModelUpdate


def _some_history(steward: Steward) -> None:
    for name in ("a", "b", "c"):
        create_model(steward, SYSTEM, ModelSpec(name=name))
    update_model(steward, SYSTEM, "b", ModelUpdate(team="eve"))


def test_every_change_writes_one_record_in_an_intact_chain(any_steward: Steward) -> None:
    _some_history(any_steward)
    with any_steward.db.read() as session:
        report = verify_chain(session)
    assert report.ok and report.checked == 5  # the bootstrap admin + 4 changes


def test_an_edited_record_is_reported(any_steward: Steward) -> None:
    _some_history(any_steward)
    with any_steward.db.write() as session:
        session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    with any_steward.db.read() as session:
        report = verify_chain(session)
    assert (report.ok, report.broken_at) == (False, 3)


def test_a_deleted_record_is_reported(any_steward: Steward) -> None:
    _some_history(any_steward)
    with any_steward.db.write() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    with any_steward.db.read() as session:
        report = verify_chain(session)
    assert (report.ok, report.broken_at, report.reason) == (False, 2, "record missing")


def test_a_failed_change_leaves_no_record(steward: Steward) -> None:
    create_model(steward, SYSTEM, ModelSpec(name="a"))
    with contextlib.suppress(Exception):
        create_model(steward, SYSTEM, ModelSpec(name="a"))
    with steward.db.read() as session:
        assert verify_chain(session).checked == 2


def test_a_change_writes_its_event_to_the_outbox_with_its_audit_record(steward: Steward) -> None:
    people(steward, "ana")
    create_model(steward, SYSTEM, ModelSpec(name="a", owner="ana"))
    assert [
        (e.name, e.object_id, e.payload["owner"]) for e in recorded(steward, "model.created")
    ] == [("model.created", "a", "ana")]
    with steward.db.read() as session:
        assert verify_chain(session).checked == len(recorded(steward))  # one each


def test_an_undeclared_event_or_an_unfit_payload_fails_the_change(steward: Steward) -> None:
    before = len(recorded(steward))
    with pytest.raises(UndeclaredEvent, match="not declared"), steward.change("ana") as change:
        change.record("model.exploded", "model", "a")
    with pytest.raises(UndeclaredEvent, match="schema"), steward.change("ana") as change:
        change.record("model.created", "model", "a", after={"name": "a"})
    assert len(recorded(steward)) == before
    with steward.db.read() as session:
        assert verify_chain(session).checked == before


def test_records_of_any_shape_are_stored_as_hashed(any_steward: Steward) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    odd = {"when": at, "pair": (1, 2), "numbers": {1: "one"}, "deep": [{"x": (None, 1.5)}]}
    plain = {"text": "é", "list": [1, 2.5, True, None], "nested": {"a": {"b": []}}}
    with any_steward.change("ana") as change:
        for action, before, after in (("test.odd", odd, plain), ("test.none", None, None)):
            audit.append(
                change.connection,
                actor="ana",
                action=action,
                object_type="model",
                object_id="m",
                before=before,
                after=after,
            )
    with any_steward.db.read() as session:
        assert verify_chain(session).ok
    newest = list_events(any_steward, limit=2)
    assert newest[1]["before"] == {
        "when": at.isoformat(sep=" "),
        "pair": [1, 2],
        "numbers": {"1": "one"},
        "deep": [{"x": [None, 1.5]}],
    }
    assert newest[1]["after"] == plain
    assert (newest[0]["before"], newest[0]["after"]) == (None, None)


def test_is_plain_json_accepts_only_what_reads_back_unchanged() -> None:
    assert is_plain_json({"a": [1, 2.0, "x", None, True, {"b": []}]})
    for value in ({"a": (1,)}, {1: "a"}, {"a": datetime.now(UTC)}, {"a": {1, 2}}):
        assert not is_plain_json(value), value
