"""Champion against challenger on the same traffic: deltas, bands, p-values, verdicts.

Shadow rows share the champion's request id, so they pair; canary and A/B rows do not.
Unit-level cases write prediction records straight into the log (as the server would);
the last test deploys a real shadow through the API and sends it real traffic.
"""

from __future__ import annotations

import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression
from tests.helpers import admin_token_of, training_frame
from tests.monitoring.test_runner import DEPLOYMENT, bare_deployment, wait_applied

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.monitoring.families.registry import parse_spec
from modelsteward.monitoring.runner import run_monitor
from modelsteward.monitoring.service import create_monitor
from modelsteward.monitoring.views import RunResult
from modelsteward.sdk.client import Client
from modelsteward.serving.labels import LabelStore
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

N = 400


def record(rid: str, at: datetime, version: int, route: str, output: Any) -> PredictionRecord:
    return PredictionRecord(
        request_id=rid,
        at=at,
        deployment=DEPLOYMENT,
        model="churn",
        version=version,
        route=route,
        inputs=[{"x": 1.0}],
        outputs=[output],
        latency_ms=1.0,
        status=200,
    )


def log_traffic(
    steward: Steward,
    champion: np.ndarray,
    challenger: np.ndarray,
    labels: np.ndarray | None,
    route: str = "shadow",
) -> None:
    """Row i of each array is one request. A shadow answers the champion's requests (same
    ids, same label); a challenger answers requests of its own, labelled from ``labels``."""
    at = datetime.now(UTC) - timedelta(minutes=20)
    ids = [uuid.uuid4().hex for _ in champion]
    other = ids if route == "shadow" else [uuid.uuid4().hex for _ in challenger]
    with PredictionLog(steward.settings.logs_url) as log:
        for i, (rid, value) in enumerate(zip(ids, champion.tolist(), strict=True)):
            log.record(record(rid, at + timedelta(milliseconds=i), 1, "champion", value))
        for i, (rid, value) in enumerate(zip(other, challenger.tolist(), strict=True)):
            log.record(record(rid, at + timedelta(milliseconds=i, seconds=1), 2, route, value))
    if labels is not None:
        named = ids if route == "shadow" else ids + other
        values = labels.tolist() if route == "shadow" else labels.tolist() * 2
        items = [{"request_id": r, "label": v} for r, v in zip(named, values, strict=True)]
        LabelStore(steward.settings.logs_url).post(DEPLOYMENT, items)


def answers(rng: np.random.Generator, truth: np.ndarray, accuracy: float) -> np.ndarray:
    """Binary predictions that are right with probability ``accuracy``, independently."""
    right = rng.random(truth.size) < accuracy
    return np.where(right, truth, 1 - truth)


def compare(steward: Steward, **spec: Any) -> RunResult:
    body = {"type": "champion_challenger", "window": {"hours": 1}, **spec}
    created = create_monitor(steward, "test", DEPLOYMENT, f"cc-{uuid.uuid4().hex[:6]}", body)
    return run_monitor(steward, created.id)


def points_of(result: RunResult) -> dict[str, Any]:
    return {p.metric: p for p in result.points}


@pytest.fixture
def bare(steward: Steward) -> Steward:
    bare_deployment(steward)
    return steward


def test_a_worse_shadow_is_breached_with_mcnemars_exact_p_value(bare: Steward) -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, N)
    champion, shadow = answers(rng, truth, 0.9), answers(rng, truth, 0.8)
    log_traffic(bare, champion, shadow, truth)
    result = compare(bare)
    delta = points_of(result)["accuracy_delta"]
    lost = int(((champion == truth) & (shadow != truth)).sum())
    won = int(((champion != truth) & (shadow == truth)).sum())
    assert delta.value == pytest.approx((won - lost) / N)
    assert delta.detail["p_value"] == pytest.approx(stats.binomtest(lost, lost + won).pvalue)
    assert delta.detail["p_value"] < 0.001 and delta.detail["test"] == "McNemar exact"
    assert delta.low < delta.value < delta.high < 0
    assert (
        delta.status == "breached" and delta.detail["verdict"] == "challenger significantly worse"
    )
    assert result.status == "breached" and "metric.breached" in result.events
    assert delta.version == 2 and delta.detail["champion_version"] == 1
    assert result.detail["mode"] == "shadow" and result.rows == N
    agreement = points_of(result)["agreement_rate"]
    assert agreement.value == pytest.approx(float((champion == shadow).mean()))
    assert agreement.low < agreement.value < agreement.high


def test_an_equally_good_shadow_is_not_breached(bare: Steward) -> None:
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 2, N)
    log_traffic(bare, answers(rng, truth, 0.85), answers(rng, truth, 0.85), truth)
    result = compare(bare)
    delta = points_of(result)["accuracy_delta"]
    assert delta.detail["p_value"] > 0.05 and delta.status == "ok"
    assert delta.detail["verdict"] == "no significant difference"
    assert delta.low < 0 < delta.high
    assert result.status == "ok" and result.events == []


def test_a_significantly_better_shadow_says_so_and_stays_ok(bare: Steward) -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, N)
    log_traffic(bare, answers(rng, truth, 0.75), answers(rng, truth, 0.9), truth)
    delta = points_of(compare(bare))["accuracy_delta"]
    assert delta.status == "ok" and delta.value > 0.08 and delta.low > 0
    assert delta.detail["verdict"] == "challenger significantly better"


def test_without_labels_the_shadow_is_compared_by_agreement(bare: Steward) -> None:
    rng = np.random.default_rng(4)
    champion = rng.integers(0, 2, N)
    shadow = np.where(rng.random(N) < 0.9, champion, 1 - champion)
    log_traffic(bare, champion, shadow, None)
    result = compare(bare, thresholds={"agreement_rate": {"min": 0.95}})
    points = points_of(result)
    assert set(points) == {"agreement_rate", "prediction_mean_delta"}
    assert points["agreement_rate"].value == pytest.approx(float((champion == shadow).mean()))
    assert points["agreement_rate"].status == "breached"  # a threshold the operator set
    assert "no accuracy or error test" in result.detail["note"]
    mean = points["prediction_mean_delta"]
    expected = stats.ttest_rel(shadow.astype(float), champion.astype(float))
    assert mean.detail["p_value"] == pytest.approx(expected.pvalue)


def test_a_regression_shadow_is_judged_on_paired_absolute_errors(bare: Steward) -> None:
    rng = np.random.default_rng(5)
    truth = rng.normal(100, 20, N)
    champion = truth + rng.normal(0, 5, N)
    shadow = truth + rng.normal(0, 6, N)
    log_traffic(bare, champion, shadow, truth)
    delta = points_of(compare(bare))["mae_delta"]
    a, b = np.abs(champion - truth), np.abs(shadow - truth)
    expected = stats.ttest_rel(b, a)
    assert delta.value == pytest.approx(float((b - a).mean()))
    assert delta.detail["p_value"] == pytest.approx(expected.pvalue)
    assert delta.detail["wilcoxon_p_value"] == pytest.approx(stats.wilcoxon(b, a).pvalue)
    band = expected.confidence_interval(0.95)
    assert (delta.low, delta.high) == pytest.approx((band.low, band.high))
    assert (
        delta.status == "breached" and delta.detail["verdict"] == "challenger significantly worse"
    )


def test_a_canary_is_compared_with_unpaired_tests(bare: Steward) -> None:
    rng = np.random.default_rng(6)
    truth = rng.integers(0, 2, N)
    champion, challenger = answers(rng, truth, 0.9), answers(rng, truth, 0.82)
    log_traffic(bare, champion, challenger, truth, route="challenger")
    result = compare(bare)
    delta = points_of(result)["accuracy_delta"]
    pa, pb = float((champion == truth).mean()), float((challenger == truth).mean())
    pooled = (pa + pb) / 2
    z = (pb - pa) / math.sqrt(pooled * (1 - pooled) * 2 / N)
    assert result.detail["mode"] == "split" and delta.detail["test"] == "two-proportion z"
    assert delta.value == pytest.approx(pb - pa)
    assert delta.detail["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert delta.status == "breached"
    assert "agreement_rate" not in points_of(result)  # different requests cannot agree


def test_a_canary_regression_uses_welchs_t_test(bare: Steward) -> None:
    rng = np.random.default_rng(7)
    truth = rng.normal(50, 10, N)
    champion, challenger = truth + rng.normal(0, 3, N), truth + rng.normal(0, 3, N)
    log_traffic(bare, champion, challenger, truth, route="challenger")
    delta = points_of(compare(bare))["mae_delta"]
    a, b = np.abs(champion - truth), np.abs(challenger - truth)
    expected = stats.ttest_ind(b, a, equal_var=False)
    assert delta.detail["test"] == "Welch t"
    assert delta.detail["p_value"] == pytest.approx(expected.pvalue)
    assert delta.status == ("breached" if expected.pvalue < 0.05 and b.mean() > a.mean() else "ok")


def test_windows_without_a_challenger_or_with_too_little_traffic_are_not_enough_data(
    bare: Steward,
) -> None:
    empty = compare(bare)
    assert empty.status == "not enough data" and empty.points == [] and empty.error == ""
    assert "no shadow rows pair" in empty.detail["note"]
    assert "no challenger rows" in empty.detail["note"]
    rng = np.random.default_rng(8)
    truth = rng.integers(0, 2, 5)
    log_traffic(bare, truth, truth, truth)
    few = compare(bare, mode="shadow")
    assert few.status == "not enough data" and "5 rows to compare" in few.detail["note"]
    one = compare(bare, mode="shadow", min_rows=1)
    assert points_of(one)["accuracy_delta"].detail["p_value"] == 1.0  # identical answers


def test_a_spec_with_a_route_or_segments_is_refused() -> None:
    for extra in ({"route": "shadow"}, {"segment_by": "age"}, {"thresholds": {"mae": {"max": 1}}}):
        with pytest.raises(InvalidInput):
            parse_spec({"type": "champion_challenger", **extra})
    with pytest.raises(InvalidInput):
        parse_spec({"type": "champion_challenger", "alpha": 0.7})


# -- real shadow traffic ---------------------------------------------------------------------


def test_a_worse_shadow_deployed_through_the_api_is_breached(
    any_api: httpx.Client, any_steward: Steward
) -> None:
    frame, labels = training_frame(rows=1000, seed=3)
    good = LogisticRegression().fit(frame, labels)
    by_age = (frame["age"] > 55).astype(int)
    worse = LogisticRegression(max_iter=1000).fit(frame, by_age)  # learnt the wrong target
    with Client(str(any_api.base_url), admin_token_of(any_steward)) as client:
        for model in (good, worse):
            client.register(model, name="churn", sample=frame, training_data=frame)
    for version, strategy in ((1, "direct"), (2, "shadow")):
        body = {"model": "churn", "version": version, "strategy": strategy}
        response = any_api.post("/api/v1/deployments", json=body)
        assert response.status_code == 202, response.text
        wait_applied(any_api, response.json())

    rng = np.random.default_rng(9)
    sent = []
    for _ in range(80):
        row = {"age": int(rng.integers(18, 90)), "income": float(rng.normal(50, 10))}
        answer = any_api.post(f"/api/v1/deployments/{DEPLOYMENT}/predict", json=[row]).json()
        assert answer["version"] == 1
        sent.append((answer["request_id"], row))
    truth = {rid: int(row["income"] + rng.normal(0, 5) > 50) for rid, row in sent}
    posted = any_api.post(
        f"/api/v1/deployments/{DEPLOYMENT}/labels",
        json=[{"request_id": rid, "label": label} for rid, label in truth.items()],
    )
    assert posted.status_code == 201, posted.text
    reader = PredictionLog(any_steward.settings.logs_url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        logged = reader.read(DEPLOYMENT).to_pylist()
        if sum(r["route"] == "shadow" for r in logged) >= len(sent):
            break
        time.sleep(0.1)
    reader.close()

    created = any_api.post(
        f"/api/v1/deployments/{DEPLOYMENT}/monitors",
        json={"name": "v2-vs-v1", "spec": {"type": "champion_challenger", "window": {"hours": 1}}},
    )
    assert created.status_code == 201, created.text
    result = any_api.post(f"/api/v1/monitors/{created.json()['id']}/run").json()
    points = {p["metric"]: p for p in result["points"]}
    delta = points["accuracy_delta"]
    rows = pd.DataFrame([{"age": row["age"], "income": row["income"]} for _, row in sent])
    y = np.array([truth[rid] for rid, _ in sent])
    right_a, right_b = good.predict(rows) == y, worse.predict(rows) == y
    lost, won = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    assert result["detail"]["mode"] == "shadow" and result["rows"] == len(sent)
    assert delta["value"] == pytest.approx((won - lost) / len(sent))
    assert delta["detail"]["p_value"] == pytest.approx(stats.binomtest(lost, lost + won).pvalue)
    assert delta["status"] == "breached" and "metric.breached" in result["events"]
    assert delta["version"] == 2 and delta["detail"]["champion_version"] == 1
