"""The life cycle gate ``drift_below_threshold`` reads the version's newest drift share."""

from __future__ import annotations

import httpx
import pytest
from tests.monitoring.test_runner import deploy_churn

from modelsteward.context import Steward
from modelsteward.lifecycle.checks.registry import CheckContext, get_check
from modelsteward.registry.models import get_model
from modelsteward.registry.versions import get_version

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")


def _gate(steward: Steward, **params: object) -> tuple[bool, str]:
    context = CheckContext(
        steward, get_model(steward, "churn"), get_version(steward, "churn", "1"), params=params
    )
    result = get_check("drift_below_threshold").evaluate(context)
    return result.passed, result.summary


def test_the_gate_follows_the_newest_drift_of_the_versions_deployments(
    api: httpx.Client, steward: Steward
) -> None:
    d = deploy_churn(api, steward)
    assert _gate(steward) == (False, "no drift measured yet for churn v1")

    d.patch("data-drift", window={"last": 300}, method_thresholds={"ks": 0.01})
    d.send(300)
    d.run("data-drift")
    passed, summary = _gate(steward, monitors=["data_drift"])
    assert passed and summary == "drift within thresholds on 1 monitor(s)"

    d.send(300, shift=30)
    d.run("data-drift")
    passed, summary = _gate(steward, monitors=["data_drift"])
    assert not passed and "churn-production data-drift drift share" in summary
    assert _gate(steward, monitors=["data_drift"], max_share=1.0)[0]
