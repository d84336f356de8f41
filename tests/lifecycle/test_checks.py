"""Automated gate checks, run against real registered model versions."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from tests.helpers import fitted_model, people, skops_file

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.identity.users import SYSTEM
from modelsteward.lifecycle.checks import registry
from modelsteward.lifecycle.checks.registry import (
    Check,
    CheckContext,
    CheckResult,
    check_names,
    get_check,
    register_check,
    unregister_check,
)
from modelsteward.registry.models import create_model, get_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version

SCHEMA = {"columns": [{"name": "age", "type": "integer"}, {"name": "income", "type": "float"}]}
DOCUMENTED_MODEL = {
    "description": "Predicts churn within 90 days.",
    "owner": "dana",
    "use_case": "retention offers",
}
DOCUMENTED_VERSION: dict[str, Any] = {
    "description": "Logistic regression on age and income.",
    "training_data": {"uri": "s3://lake/churn/train.parquet", "rows": 80},
    "code": {"repository": "https://git.example.com/churn", "commit": "abc1234"},
    "input_schema": SCHEMA,
    "metrics": {"accuracy": 0.91},
}


def context_for(
    steward: Steward,
    tmp_path: Path,
    model: dict[str, Any] | None = None,
    *,
    flavor: str = "sklearn",
    extra_files: dict[str, str] | None = None,
    **version: Any,
) -> CheckContext:
    """Register a real model version (with ``extra_files`` uploaded as tests) and its context."""
    name = f"m{len(list(tmp_path.iterdir()))}"
    people(steward, "dana")  # the documented owner is a user
    create_model(steward, SYSTEM, ModelSpec(name=name, **(model or {})))
    folder = tmp_path / name
    if flavor == "pickle":
        folder.mkdir()
        main = folder / "model.pkl"
        main.write_bytes(pickle.dumps(fitted_model(), protocol=5))
        version.setdefault("trust_reason", "our own training pipeline")
    else:
        main = skops_file(folder)
    blobs = {main.name: steward.artifacts.put_file(main)}
    files = [{"role": "model", "name": main.name}]
    for file_name, source in (extra_files or {}).items():
        blobs[file_name] = steward.artifacts.put_bytes(source.encode())
        files.append({"role": "test", "name": file_name})
    spec = VersionSpec.model_validate({"flavor": flavor, "files": files, **version})
    view = register_version(steward, SYSTEM, name, spec, blobs)
    return CheckContext(steward=steward, model=get_model(steward, name), version=view)


def run(name: str, context: CheckContext, **params: Any) -> CheckResult:
    return get_check(name).evaluate(
        CheckContext(context.steward, context.model, context.version, 7, params)
    )


def test_builtin_checks_ship_through_the_entry_point_registry() -> None:
    assert {
        "tests_pass",
        "metric_threshold",
        "metadata_present",
        "documentation_complete",
        "fairness_bounds",
    } <= set(check_names())
    for name in check_names():
        check = get_check(name)
        assert check.name == name and check.description


def test_unknown_check_is_refused_with_the_known_names() -> None:
    with pytest.raises(InvalidInput, match="unknown check 'pii_scan'; known checks: .*tests_pass"):
        get_check("pii_scan")


def test_metric_threshold_compares_the_recorded_metric(steward: Steward, tmp_path: Path) -> None:
    context = context_for(steward, tmp_path, metrics={"accuracy": 0.84, "latency_ms": 12.0})
    passed = run("metric_threshold", context, metric="accuracy", min=0.8)
    assert passed.passed and passed.summary == "accuracy = 0.84 is >= 0.8"
    assert not run("metric_threshold", context, metric="accuracy", min=0.9).passed
    assert run("metric_threshold", context, metric="latency_ms", max=20).passed
    ranged = run("metric_threshold", context, metric="accuracy", min=0.85, max=0.99)
    assert not ranged.passed and ranged.summary == "accuracy = 0.84 is not in [0.85, 0.99]"


def test_metric_threshold_fails_when_the_metric_was_never_recorded(
    steward: Steward, tmp_path: Path
) -> None:
    result = run("metric_threshold", context_for(steward, tmp_path), metric="auc", min=0.7)
    assert not result.passed
    assert result.summary == "metric 'auc' is not recorded (wanted >= 0.7)"


def test_check_params_are_validated(steward: Steward, tmp_path: Path) -> None:
    context = context_for(steward, tmp_path)
    with pytest.raises(InvalidInput, match="give 'min', 'max' or both"):
        run("metric_threshold", context, metric="accuracy")
    with pytest.raises(InvalidInput, match="unknown field 'colour'"):
        run("metadata_present", context, fields=["colour"])
    with pytest.raises(InvalidInput, match="timeout_s"):
        run("tests_pass", context, timeout_s=0)


def test_metadata_present_lists_what_is_missing(steward: Steward, tmp_path: Path) -> None:
    context = context_for(
        steward,
        tmp_path,
        {"owner": "dana"},
        input_schema=SCHEMA,
        metadata={"limitations": "  "},
    )
    fields = ["owner", "input_schema", "training_data", "team", "metadata.limitations"]
    result = run("metadata_present", context, fields=fields)
    assert not result.passed
    assert result.details["missing"] == ["training_data", "team", "metadata.limitations"]
    assert result.summary == "missing: training_data, team, metadata.limitations"
    assert run("metadata_present", context, fields=["owner", "input_schema"]).passed


def test_documentation_complete_wants_what_a_regulator_reads(
    steward: Steward, tmp_path: Path
) -> None:
    bare = run("documentation_complete", context_for(steward, tmp_path))
    assert not bare.passed
    assert bare.details["missing"] == [
        "model_description",
        "owner",
        "use_case",
        "description",
        "training_data",
        "code",
        "input_schema",
        "metrics",
    ]
    documented = context_for(steward, tmp_path, DOCUMENTED_MODEL, **DOCUMENTED_VERSION)
    assert run("documentation_complete", documented).passed
    extra = run("documentation_complete", documented, extra=["metadata.limitations"])
    assert not extra.passed and extra.details["missing"] == ["metadata.limitations"]


def test_fairness_bounds_needs_fairness_metrics(steward: Steward, tmp_path: Path) -> None:
    result = run("fairness_bounds", context_for(steward, tmp_path, metrics={"accuracy": 0.9}))
    assert not result.passed
    assert result.summary.startswith("0 bounded fairness metric(s) recorded, 1 needed")


def test_fairness_bounds_checks_each_measure_and_attribute(
    steward: Steward, tmp_path: Path
) -> None:
    fair = context_for(
        steward,
        tmp_path,
        metrics={
            "fairness.demographic_parity_difference.sex": -0.04,
            "fairness.demographic_parity_difference.age_band": 0.08,
            "fairness.disparate_impact_ratio": 0.91,
        },
    )
    result = run("fairness_bounds", fair)
    assert result.passed and result.summary == "3 fairness metric(s) within bounds"
    unfair = context_for(
        steward,
        tmp_path,
        metrics={
            "fairness.demographic_parity_difference.sex": -0.15,
            "fairness.disparate_impact_ratio": 0.7,
        },
    )
    result = run("fairness_bounds", unfair)
    assert not result.passed
    assert result.details["violations"] == [
        "fairness.demographic_parity_difference.sex = -0.15 (wanted |x| <= 0.1)",
        "fairness.disparate_impact_ratio = 0.7 (wanted >= 0.8)",
    ]
    lenient = {"demographic_parity_difference": {"max_abs": 0.2}}
    assert run("fairness_bounds", unfair, bounds=lenient).passed


def test_tests_pass_evaluates_declared_metric_and_schema_tests(
    steward: Steward, tmp_path: Path
) -> None:
    tests = [
        {"name": "accurate", "type": "metric_min", "metric": "accuracy", "threshold": 0.8},
        {"name": "fast", "type": "metric_max", "metric": "latency_ms", "threshold": 50},
        {"name": "schema", "type": "schema_present"},
    ]
    good = context_for(
        steward,
        tmp_path,
        metrics={"accuracy": 0.9, "latency_ms": 20},
        input_schema=SCHEMA,
        tests=tests,
    )
    result = run("tests_pass", good)
    assert result.passed and result.summary == "3 test(s) passed"
    bad = context_for(steward, tmp_path, metrics={"accuracy": 0.7}, tests=tests)
    result = run("tests_pass", bad)
    assert not result.passed
    assert result.summary == "3 of 3 failed: accurate, fast, schema"
    assert [t["detail"] for t in result.details["tests"]] == [
        "accuracy = 0.7, wanted >= 0.8",
        "metric 'latency_ms' is not recorded",
        "no input schema",
    ]


def test_tests_pass_fails_a_version_without_tests_unless_told_otherwise(
    steward: Steward, tmp_path: Path
) -> None:
    context = context_for(steward, tmp_path)
    assert not run("tests_pass", context).passed
    assert run("tests_pass", context, require_tests=False).passed


PASSING = """\
import pickle
from pathlib import Path


def test_model_predicts():
    model = pickle.loads(Path("model.pkl").read_bytes())
    assert list(model.predict([[30, 80.0], [30, 10.0]])) == [1, 0]
"""
FAILING = "def test_broken():\n    assert 1 + 1 == 3, 'arithmetic is off'\n"
SLOW = "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"


def pytest_version(
    steward: Steward, tmp_path: Path, source: str, *, flavor: str = "pickle"
) -> CheckContext:
    return context_for(
        steward,
        tmp_path,
        flavor=flavor,
        extra_files={"test_model.py": source},
        tests=[{"name": "unit", "type": "pytest", "file": "test_model.py"}],
    )


def test_tests_pass_runs_shipped_pytest_files_of_trusted_versions(
    steward: Steward, tmp_path: Path
) -> None:
    result = run("tests_pass", pytest_version(steward, tmp_path, PASSING))
    assert result.passed, result.details
    assert "1 passed" in result.details["tests"][0]["detail"]
    failing = run("tests_pass", pytest_version(steward, tmp_path, FAILING))
    assert not failing.passed and failing.summary == "1 of 1 failed: unit"
    assert "arithmetic is off" in failing.details["tests"][0]["detail"]


def test_shipped_tests_do_not_see_the_stewards_settings(
    steward: Steward, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_DB_URL", "postgresql://steward:secret@db/steward")
    source = (
        "import os\n\n\ndef test_env():\n"
        "    assert not [k for k in os.environ if k.startswith('STEWARD_')]\n"
    )
    result = run("tests_pass", pytest_version(steward, tmp_path, source))
    assert result.passed, result.details


def test_tests_pass_stops_a_test_run_that_overruns(steward: Steward, tmp_path: Path) -> None:
    result = run("tests_pass", pytest_version(steward, tmp_path, SLOW), timeout_s=3)
    assert not result.passed
    assert result.details["tests"][0]["detail"].startswith("timed out after 3 s")


def test_tests_pass_never_runs_code_of_an_untrusted_version(
    steward: Steward, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    source = f"from pathlib import Path\n\n\ndef test_x():\n    Path({str(marker)!r}).touch()\n"
    context = pytest_version(steward, tmp_path, source, flavor="sklearn")
    assert context.version.trust is None
    result = run("tests_pass", context)
    assert not result.passed
    assert result.details["tests"][0]["detail"] == (
        "not run: the version has no granted trust decision to run its code"
    )
    assert not run("tests_pass", context, on_untrusted="skip").passed  # nothing else ran
    assert not marker.exists()


def test_untrusted_pytest_can_be_skipped_when_other_tests_decide(
    steward: Steward, tmp_path: Path
) -> None:
    context = context_for(
        steward,
        tmp_path,
        extra_files={"test_model.py": "def test_x():\n    pass\n"},
        metrics={"accuracy": 0.9},
        tests=[
            {"name": "unit", "type": "pytest", "file": "test_model.py"},
            {"name": "accurate", "type": "metric_min", "metric": "accuracy", "threshold": 0.8},
        ],
    )
    result = run("tests_pass", context, on_untrusted="skip")
    assert result.passed and result.summary == "1 test(s) passed, 1 skipped"


class _Reviewed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: str = "reviewed"


def _has_tag(context: CheckContext, params: _Reviewed) -> CheckResult:
    present = params.tag in context.version.tags
    return CheckResult(present, f"tag {params.tag!r} {'present' if present else 'missing'}")


def test_user_registered_python_checks_run_through_the_same_registry(
    steward: Steward, tmp_path: Path
) -> None:
    check = Check("tagged", "The version carries a tag.", _Reviewed, _has_tag)
    register_check(check)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_check(check)
        with pytest.raises(ValueError, match="already registered"):
            register_check(Check("tests_pass", "impostor", _Reviewed, _has_tag))
        context = context_for(steward, tmp_path, tags={"reviewed": "yes"})
        assert run("tagged", context).passed
        assert not run("tagged", context, tag="signed").passed
    finally:
        unregister_check("tagged")
    assert "tagged" not in check_names()


THIRD_PARTY = """\
from pydantic import BaseModel

from modelsteward.lifecycle.checks import Check, CheckResult


class Params(BaseModel):
    pass


CHECK = Check("pii_scan", "No personal data in the sample.", Params, lambda c, p: CheckResult(True, "clean"))
"""


def test_third_party_packages_add_checks_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "acme_checks.py").write_text(THIRD_PARTY)
    dist = tmp_path / "acme_checks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-checks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[modelsteward.checks]\npii_scan = acme_checks:CHECK\nbroken = acme_checks_missing:CHECK\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.REGISTRY.forget()
    try:
        assert {"pii_scan", "tests_pass"} <= set(check_names())
        assert "broken" not in check_names()
        assert "cannot load check 'broken'" in caplog.text
        assert get_check("pii_scan").description == "No personal data in the sample."
    finally:
        monkeypatch.undo()
        registry.REGISTRY.forget()
    assert "pii_scan" not in check_names()
