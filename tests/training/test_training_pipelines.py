"""A pipeline is checked at creation (module, function, data, target) with a clear error
that changes nothing, and its code runs only once its trust is granted."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.training.conftest import DETERMINISTIC, pipeline_of, write_data, write_source

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput, NotFound, UntrustedArtifact
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.training.pipelines import create_pipeline, grant_trust, list_pipelines
from modelsteward.training.runs import request_run


@pytest.fixture
def ready(tmp_path: Path) -> tuple[Path, Path]:
    return write_source(tmp_path / "src", DETERMINISTIC), write_data(tmp_path / "d.csv")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entry_point": "nothere:fit"}, "unknown module 'nothere'"),
        ({"entry_point": "train:missing"}, "module 'train' has no function 'missing'"),
        (
            {"entry_point": "train"},
            "entry_point: Value error, entry_point must read 'module:function'",
        ),
        ({"data": {"kind": "file", "location": "/nowhere/data.csv"}}, "cannot read the data"),
        ({"data": {"kind": "file", "location": "s3://bucket/../etc/data.csv"}}, "'..' segments"),
        ({"data": {"kind": "file", "location": "file:///etc/data.csv"}}, "local file paths"),
        ({"data": {"kind": "file", "location": "/tmp/data.txt"}}, "data.file.location"),
        ({"target": "nope"}, "the data has no target column 'nope'"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"trust_reason": None}, "trust_reason"),
    ],
)
def test_a_pipeline_that_cannot_run_is_refused_at_creation_and_nothing_is_stored(
    credit: Steward, ready: tuple[Path, Path], change: dict, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_pipeline(credit, SYSTEM, "credit", {**pipeline_of(*ready), **change})
    assert message in refused.value.message
    assert list_pipelines(credit) == []


def test_a_pipeline_needs_an_existing_model(credit: Steward, ready: tuple[Path, Path]) -> None:
    with pytest.raises(NotFound, match="model 'ghost' not found"):
        create_pipeline(credit, SYSTEM, "ghost", pipeline_of(*ready))


def test_a_data_scientists_pipeline_runs_only_after_a_risk_manager_grants_trust(
    credit: Steward, ready: tuple[Path, Path]
) -> None:
    created = create_pipeline(
        credit, Principal("dana", "data-scientist"), "credit", pipeline_of(*ready)
    )
    assert created["trusted"] is False
    with pytest.raises(UntrustedArtifact, match="trust is not granted"):
        request_run(credit, "dana", "credit", cause="manual")
    granted = grant_trust(credit, Principal("rita", "risk-manager"), "credit")
    assert granted["trusted"] and granted["trust"]["granted_by"] == "rita"
    assert request_run(credit, "dana", "credit", cause="manual")["status"] == "queued"
