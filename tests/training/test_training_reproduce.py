"""Reproducing a version trains its recorded run again: a deterministic pipeline gives the
byte-identical artifact and the same metrics; a noisy one is named for what differs."""

from __future__ import annotations

from pathlib import Path

from tests.training.conftest import DETERMINISTIC, NOISY, pipeline_of, write_data, write_source

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.training.execution import claim, execute
from modelsteward.training.pipelines import create_pipeline
from modelsteward.training.reproduce import reproduce
from modelsteward.training.runs import request_run


def trained(steward: Steward, tmp_path: Path, code: str) -> int:
    source = write_source(tmp_path / "src", code)
    create_pipeline(steward, SYSTEM, "credit", pipeline_of(source, write_data(tmp_path / "d.csv")))
    run = request_run(steward, "ann", "credit", cause="manual")
    claim(steward, run["id"])
    ended = execute(steward, run["id"])
    assert ended["status"] == "succeeded", ended["reason"]
    return ended["version"]


def test_a_deterministic_pipeline_reproduces_the_same_artifact_and_metrics(
    credit: Steward, tmp_path: Path
) -> None:
    version = trained(credit, tmp_path, DETERMINISTIC)
    report = reproduce(credit, "credit", version)
    assert report["reproduced"], report["differences"]
    assert report["differences"] == []


def test_a_noisy_pipeline_does_not_reproduce_and_the_report_names_the_artifact(
    credit: Steward, tmp_path: Path
) -> None:
    version = trained(credit, tmp_path, NOISY)
    report = reproduce(credit, "credit", version)
    assert not report["reproduced"]
    assert any(d.startswith("artifact model.skops") for d in report["differences"])


def test_changed_local_code_is_named_rather_than_trained(credit: Steward, tmp_path: Path) -> None:
    version = trained(credit, tmp_path, DETERMINISTIC)
    (tmp_path / "src" / "train.py").write_text(DETERMINISTIC + "\n# edited\n")
    report = reproduce(credit, "credit", version)
    assert not report["reproduced"]
    assert report["differences"] == [
        "training failed: the pipeline's source changed since the run was recorded"
    ]
