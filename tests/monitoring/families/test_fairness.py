"""Fairness monitors: fairlearn's measures over a protected attribute, with bands and bounds.

fairlearn is not a dependency, so its definitions are written out here: the selection
rate of a group is its share of positive predictions; demographic parity difference is
max - min selection rate; disparate impact (fairlearn's demographic parity ratio) is
min / max; equalised odds difference is the larger of the TPR and FPR gaps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest
from tests.helpers import outbox_head
from tests.monitoring.test_runner import DEPLOYMENT, Deployed, bare_deployment

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.monitoring.families.fairness.family import FairnessSpec, window_fairness
from modelsteward.monitoring.families.fairness.measures import (
    demographic_parity_difference,
    disparate_impact_ratio,
    equalized_odds_difference,
    fairness,
    selection_rates,
)
from modelsteward.monitoring.runner import run_monitor
from modelsteward.monitoring.windows import PredictionWindow
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

RNG = np.random.default_rng(11)
N = 3_000
GROUPS = RNG.choice(np.array(["a", "b", "c"], dtype=object), N, p=[0.5, 0.3, 0.2])
TRUTH = RNG.uniform(size=N) < np.where(GROUPS == "a", 0.5, 0.3)
PREDICTED = np.where(RNG.uniform(size=N) < 0.8, TRUTH, ~TRUTH) & (
    RNG.uniform(size=N) < np.where(GROUPS == "c", 0.9, 1.0)
) | ((GROUPS == "b") & (RNG.uniform(size=N) < 0.3))  # b: many false positives


def reference(predicted: np.ndarray, truth: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """fairlearn's definitions, written out with one group at a time."""
    rates, tprs, fprs = [], [], []
    for g in sorted(set(groups)):
        mine = groups == g
        rates.append(predicted[mine].mean())
        tprs.append(predicted[mine & truth].mean())
        fprs.append(predicted[mine & ~truth].mean())
    return {
        "demographic_parity_difference": max(rates) - min(rates),
        "disparate_impact_ratio": min(rates) / max(rates),
        "equalized_odds_difference": max(max(tprs) - min(tprs), max(fprs) - min(fprs)),
    }


def test_the_measures_agree_with_the_written_out_definitions() -> None:
    expected = reference(PREDICTED, TRUTH, GROUPS)
    tpr = [PREDICTED[(g == GROUPS) & TRUTH].mean() for g in "abc"]
    assert expected["equalized_odds_difference"] > max(tpr) - min(tpr)  # the FPR gap decides
    assert demographic_parity_difference(PREDICTED, GROUPS) == pytest.approx(
        expected["demographic_parity_difference"], abs=1e-12
    )
    assert disparate_impact_ratio(PREDICTED, GROUPS) == pytest.approx(
        expected["disparate_impact_ratio"], abs=1e-12
    )
    assert equalized_odds_difference(PREDICTED, TRUTH, GROUPS) == pytest.approx(
        expected["equalized_odds_difference"], abs=1e-12
    )
    assert selection_rates(PREDICTED, GROUPS)["c"] == pytest.approx(PREDICTED[GROUPS == "c"].mean())
    found = fairness(PREDICTED, GROUPS, TRUTH, replicates=100)
    for name, value in expected.items():
        estimate = found.estimates[name]
        assert estimate.value == pytest.approx(value, abs=1e-12), name
        assert estimate.low is not None and estimate.high is not None, name
        assert estimate.low <= value <= estimate.high, name
        assert estimate.note == "3 groups compared"


def test_bands_are_seeded_and_narrow_with_more_rows() -> None:
    first = fairness(PREDICTED, GROUPS, TRUTH, replicates=100, seed=3)
    again = fairness(PREDICTED, GROUPS, TRUTH, replicates=100, seed=3)
    small = fairness(PREDICTED[:300], GROUPS[:300], TRUTH[:300], replicates=100, seed=3)
    for name, estimate in first.estimates.items():
        assert (estimate.low, estimate.high) == (
            again.estimates[name].low,
            again.estimates[name].high,
        )
        wide = small.estimates[name].high - small.estimates[name].low  # type: ignore[operator]
        assert estimate.high - estimate.low < wide, name  # type: ignore[operator]
    rate = first.selection_rates["b"]
    assert rate.low < rate.value < rate.high  # type: ignore[operator]


def test_at_parity_the_band_reaches_zero_gap_and_a_real_gap_excludes_it() -> None:
    sex, approved = biased_decisions(2_000, women_rate=0.5)
    at_parity = fairness(approved, sex, replicates=200).estimates
    assert at_parity["demographic_parity_difference"].low == 0.0
    assert at_parity["disparate_impact_ratio"].high == 1.0
    sex, approved = biased_decisions(2_000, women_rate=0.4)
    gap = fairness(approved, sex, replicates=200).estimates["demographic_parity_difference"]
    assert gap.low > 0.03  # type: ignore[operator]


def window_of(
    groups: np.ndarray, predicted: np.ndarray, labels: np.ndarray | None
) -> PredictionWindow:
    """A window as ``read_window`` gives it: inputs with the attribute, numeric outputs."""
    n = groups.size
    meta = pa.table({"request_id": [f"r{i}" for i in range(n)], "version": [1] * n})
    label_table = None
    if labels is not None:
        label_table = pa.table(
            {"label": [str(int(v)) for v in labels], "label_number": labels.astype(float)}
        )
    return PredictionWindow(
        start=None,
        end=datetime.now(UTC),
        meta=meta,
        inputs=pa.table({"sex": list(groups), "income": np.ones(n)}),
        outputs=pa.table({"prediction": predicted.astype(float)}),
        labels=label_table,
        total_rows=n,
        sampled=False,
    )


def biased_decisions(n: int, women_rate: float, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Half women, half men; men approved at 50%, women at ``women_rate``."""
    rng = np.random.default_rng(seed)
    sex = np.where(np.arange(n) % 2 == 0, "F", "M").astype(object)
    approved = rng.uniform(size=n) < np.where(sex == "F", women_rate, 0.5)
    return sex, approved


def points_of(spec: FairnessSpec, window: PredictionWindow) -> dict[tuple[str, str], Any]:
    points, _ = window_fairness(spec, window)
    return {(p.metric, p.column): p for p in points}


def test_a_biased_model_fails_the_four_fifths_rule_and_a_fair_one_passes() -> None:
    spec = FairnessSpec(attribute="sex", bootstrap=50)
    sex, approved = biased_decisions(2_000, women_rate=0.25)
    biased = points_of(spec, window_of(sex, approved, None))
    ratio = biased[("disparate_impact_ratio", "sex")]
    assert ratio.value == pytest.approx(approved[sex == "F"].mean() / approved[sex == "M"].mean())
    assert ratio.value < 0.8 and ratio.status == "breached" and ratio.threshold == 0.8
    assert biased[("demographic_parity_difference", "sex")].status == "breached"
    assert biased[("selection_rate", "F")].value == pytest.approx(approved[sex == "F"].mean())

    sex, approved = biased_decisions(2_000, women_rate=0.5)
    fair = points_of(spec, window_of(sex, approved, None))
    assert fair[("disparate_impact_ratio", "sex")].value > 0.8
    assert fair[("disparate_impact_ratio", "sex")].status == "ok"
    assert fair[("demographic_parity_difference", "sex")].status == "ok"


def test_equalized_odds_needs_labels() -> None:
    sex, approved = biased_decisions(200, women_rate=0.5)
    points = points_of(FairnessSpec(attribute="sex", bootstrap=20), window_of(sex, approved, None))
    odds = points[("equalized_odds_difference", "sex")]
    assert odds.value is None and odds.status == "not enough data"
    assert odds.detail["note"] == "needs labels"
    assert fairness(approved, sex).estimates["equalized_odds_difference"].note == "needs labels"


def test_a_group_with_one_row_is_left_out_with_a_note() -> None:
    sex, approved = biased_decisions(200, women_rate=0.5)
    sex, approved = np.append(sex, "X"), np.append(approved, True)
    spec = FairnessSpec(attribute="sex", bootstrap=20)
    points, detail = window_fairness(spec, window_of(sex, approved, approved.astype(float)))
    assert "group X: 1 rows, 10 needed" in detail["left_out"]
    assert detail["groups"] == {"F": 100, "M": 100, "X": 1}
    assert {p.column for p in points if p.metric == "selection_rate"} == {"F", "M"}
    parity = next(p for p in points if p.metric == "demographic_parity_difference")
    kept = sex != "X"
    assert parity.value == pytest.approx(demographic_parity_difference(approved[kept], sex[kept]))


def test_a_score_is_not_taken_for_a_class() -> None:
    sex, _ = biased_decisions(200, women_rate=0.5)
    scores = np.random.default_rng(1).uniform(size=200)
    with pytest.raises(InvalidInput, match="200 distinct values"):
        window_fairness(FairnessSpec(attribute="sex"), window_of(sex, scores, None))
    spec = FairnessSpec(attribute="sex", positive_label=1, bootstrap=20)
    points, detail = window_fairness(spec, window_of(sex, scores > 0.5, None))
    assert detail["positive"] == "1"
    assert next(p for p in points if p.metric == "disparate_impact_ratio").status == "ok"


def test_a_single_group_or_no_positive_prediction_says_why() -> None:
    one = fairness(np.ones(50, bool), np.array(["F"] * 50, dtype=object))
    assert one.estimates["disparate_impact_ratio"].value is None
    assert "2 needed" in one.estimates["disparate_impact_ratio"].note
    none = fairness(np.zeros(60, bool), np.array(["F", "M"] * 30, dtype=object))
    assert none.estimates["demographic_parity_difference"].value == 0.0
    assert none.estimates["disparate_impact_ratio"].note == "no group has a positive prediction"
    empty = fairness(np.array([], bool), np.array([], dtype=object))
    assert all(e.value is None for e in empty.estimates.values())


# -- end to end: logged predictions, posted labels, a monitor made and run over HTTP ---------


def logged_deployment(api: httpx.Client, steward: Steward) -> Deployed:
    """A deployment with no model behind it: these monitors read only its prediction log."""
    bare_deployment(steward)
    return Deployed(api, steward, {}, since=outbox_head(steward))


@pytest.fixture
def deployed(api: httpx.Client, steward: Steward) -> Deployed:
    return logged_deployment(api, steward)


@pytest.fixture
def any_deployed(any_api: httpx.Client, any_steward: Steward) -> Deployed:
    return logged_deployment(any_api, any_steward)


def log_decisions(deployed: Deployed, sex: np.ndarray, approved: np.ndarray) -> None:
    at = datetime.now(UTC) - timedelta(minutes=10)
    with PredictionLog(deployed.steward.settings.logs_url) as log:
        for i, (s, a) in enumerate(zip(sex, approved, strict=True)):
            log.record(
                PredictionRecord(
                    request_id=f"f{i}",
                    at=at + timedelta(milliseconds=i),
                    deployment=DEPLOYMENT,
                    model="churn",
                    version=1,
                    route="champion",
                    inputs=[{"sex": str(s), "age": 40, "income": 50.0}],
                    outputs=[int(a)],
                    latency_ms=1.0,
                    status=200,
                )
            )


def make_monitor(deployed: Deployed, name: str, **spec: Any) -> int:
    body = {"name": name, "spec": {"type": "fairness", "window": {"hours": 1}, **spec}}
    created = deployed.api.post(f"/api/v1/deployments/{DEPLOYMENT}/monitors", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_a_biased_deployment_breaches_over_http(any_deployed: Deployed) -> None:
    d = any_deployed
    sex, approved = biased_decisions(400, women_rate=0.2)
    truth = np.where(np.random.default_rng(2).uniform(size=400) < 0.8, approved, ~approved)
    log_decisions(d, sex, approved)
    labels = [{"request_id": f"f{i}", "label": int(t)} for i, t in enumerate(truth)]
    assert d.api.post(f"/api/v1/deployments/{DEPLOYMENT}/labels", json=labels).status_code == 201
    monitor = make_monitor(d, "fairness-sex", attribute="sex", bootstrap=50)
    run = d.api.post(f"/api/v1/monitors/{monitor}/run").json()
    assert run["status"] == "breached" and "metric.breached" in run["events"]
    points = {(p["metric"], p["column"]): p for p in run["points"]}
    expected = reference(approved, truth, sex)
    for name, value in expected.items():
        assert points[(name, "sex")]["value"] == pytest.approx(value, abs=1e-9), name
    assert points[("disparate_impact_ratio", "sex")]["status"] == "breached"
    assert points[("equalized_odds_difference", "sex")]["low"] is not None
    assert run["detail"]["groups"] == {"F": 200, "M": 200} and run["detail"]["labelled_rows"] == 400
    breached = [e for e in d.events if e.payload["metric"] == "disparate_impact_ratio"]
    assert breached and breached[0].payload["column"] == "sex"


def test_a_missing_attribute_column_gives_a_clear_status(deployed: Deployed) -> None:
    sex, approved = biased_decisions(50, women_rate=0.5)
    log_decisions(deployed, sex, approved)
    monitor = make_monitor(deployed, "fairness-race", attribute="race")
    result = run_monitor(deployed.steward, monitor)
    assert result.status == "column missing" and result.points == [] and result.error == ""
    assert "'race' is neither an input column" in result.detail["note"]
    assert "sex" in result.detail["note"]


def test_the_attribute_may_be_a_request_meta_column(deployed: Deployed) -> None:
    sex, approved = biased_decisions(50, women_rate=0.5)
    log_decisions(deployed, sex, approved)
    result = run_monitor(deployed.steward, make_monitor(deployed, "by-route", attribute="route"))
    assert result.detail["groups"] == {"champion": 50}
    parity = next(p for p in result.points if p.metric == "demographic_parity_difference")
    assert parity.status == "not enough data" and "2 needed" in parity.detail["note"]


def test_a_fairness_spec_needs_its_attribute(deployed: Deployed) -> None:
    body = {"name": "no-attribute", "spec": {"type": "fairness"}}
    refused = deployed.api.post(f"/api/v1/deployments/{DEPLOYMENT}/monitors", json=body)
    assert refused.status_code == 422 and "attribute" in refused.json()["error"]["message"]
