"""Every event is declared once, typed; docs/events.md lists exactly the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelsteward.events.catalogue import (
    CUSTOM,
    EventType,
    Payload,
    UndeclaredEvent,
    build,
    catalogue,
)
from modelsteward.events.subscribers import SUBSCRIBERS
from modelsteward.jobs import JOBS

DOC = Path(__file__).parents[2] / "docs" / "events.md"
ROW = re.compile(r"^\| `([a-z_]+\.[a-z_.]+)` \|", re.MULTILINE)


def test_the_docs_list_exactly_the_declared_events() -> None:
    documented = ROW.findall(DOC.read_text().split("## The catalogue", 1)[1])
    declared = sorted(catalogue().types)
    assert sorted(documented) == declared, "run scripts/events_doc.py to regenerate docs/events.md"
    assert len(documented) == len(set(documented))


def test_the_docs_name_every_subscriber_and_job() -> None:
    text = DOC.read_text()
    for name in SUBSCRIBERS.names() + JOBS.names():
        assert f"`{name}`" in text, f"{name} is not described in docs/events.md"


def test_every_declared_payload_is_frozen_and_refuses_unknown_fields() -> None:
    for declared in catalogue().types.values():
        config = declared.payload.model_config
        assert config.get("frozen") and config.get("extra") == "forbid", declared.name


def test_an_event_is_declared_once() -> None:
    twice = [EventType("model.created", "x", "model", Payload)] * 2
    with pytest.raises(ValueError, match="declared twice"):
        build(twice)


def test_service_families_are_reserved_and_other_names_are_custom_life_cycle_events() -> None:
    known = catalogue()
    assert known.type_of("retirement.announced") is CUSTOM
    for forged in ("version.deleted", "alert.forged", "metric.faked"):
        with pytest.raises(UndeclaredEvent, match="not declared"):
            known.type_of(forged)
    with pytest.raises(UndeclaredEvent, match="about a version, not a model"):
        known.check("version.archived", "model", {"status": "archived"})
