"""Business KPI monitors: a user's DuckDB SQL or a named Python function, with a threshold.

The SQL is user input: hostile queries are refused when a monitor is made, refused again
when a stored one runs, and the sandbox they would run in cannot touch files anyway.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import update
from tests.monitoring.families.test_fairness import logged_deployment
from tests.monitoring.test_runner import DEPLOYMENT, Deployed

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.monitoring.families.business_kpi.functions import KPIS, KpiRegistry
from modelsteward.monitoring.families.business_kpi.sql import (
    predictions_table,
    run_sql_kpi,
    sandbox,
)
from modelsteward.monitoring.families.performance.metrics import positive_of
from modelsteward.monitoring.families.registry import parse_spec
from modelsteward.monitoring.runner import run_monitor
from modelsteward.monitoring.tables import Monitor
from modelsteward.monitoring.windows import PredictionWindow
from modelsteward.serving.predlog import PredictionLog, PredictionRecord

N = 300
RNG = np.random.default_rng(21)
SEX = np.where(np.arange(N) % 3 == 0, "F", "M").astype(object)
APPROVED = RNG.uniform(size=N) < 0.6
REPAID = np.where(RNG.uniform(size=N) < 0.75, APPROVED, ~APPROVED)
COST_SQL = (
    "SELECT avg(CASE WHEN prediction = 1 AND label = '0' THEN -100 ELSE 0 END) FROM predictions"
)


@pytest.fixture
def deployed(api: httpx.Client, steward: Steward) -> Deployed:
    return logged_deployment(api, steward)


@pytest.fixture
def any_deployed(any_api: httpx.Client, any_steward: Steward) -> Deployed:
    return logged_deployment(any_api, any_steward)


def log_loans(d: Deployed, labels: bool = True) -> None:
    """N approve/decline decisions in the log and, with ``labels``, whether each was repaid."""
    at = datetime.now(UTC) - timedelta(minutes=10)
    with PredictionLog(d.steward.settings.logs_url) as log:
        for i in range(N):
            log.record(
                PredictionRecord(
                    request_id=f"k{i}",
                    at=at + timedelta(milliseconds=i),
                    deployment=DEPLOYMENT,
                    model="churn",
                    version=1,
                    route="champion",
                    inputs=[{"sex": str(SEX[i]), "income": 40.0 + i % 20}],
                    outputs=[int(APPROVED[i])],
                    latency_ms=2.0 + i % 5,
                    status=200,
                )
            )
    if labels:
        posted = [{"request_id": f"k{i}", "label": int(REPAID[i])} for i in range(N)]
        assert (
            d.api.post(f"/api/v1/deployments/{DEPLOYMENT}/labels", json=posted).status_code == 201
        )


def create(d: Deployed, name: str, **spec: Any) -> Any:
    body = {"name": name, "spec": {"type": "business_kpi", "window": {"hours": 1}, **spec}}
    return d.api.post(f"/api/v1/deployments/{DEPLOYMENT}/monitors", json=body)


def run(d: Deployed, name: str, **spec: Any) -> dict[str, Any]:
    created = create(d, name, **spec)
    assert created.status_code == 201, created.text
    response = d.api.post(f"/api/v1/monitors/{created.json()['id']}/run")
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- SQL KPIs --------------------------------------------------------------------------------


def test_a_sql_kpi_over_predictions_and_labels_breaches_its_threshold(
    any_deployed: Deployed,
) -> None:
    log_loans(any_deployed)
    result = run(
        any_deployed,
        "bad-loan-cost",
        sql=COST_SQL,
        metric="bad_loan_cost",
        thresholds={"kpi": {"min": -5}},
    )
    (point,) = result["points"]
    expected = np.mean(np.where(APPROVED & ~REPAID, -100.0, 0.0))
    assert expected < -5
    assert point["metric"] == "kpi" and point["column"] == "bad_loan_cost"
    assert point["value"] == pytest.approx(expected)
    assert point["status"] == "breached" and point["threshold"] == -5
    assert point["low"] is None and point["detail"]["band"] == "no band for SQL KPIs"
    assert result["status"] == "breached" and result["events"] == ["metric.breached"]
    assert any_deployed.events[0].payload["column"] == "bad_loan_cost"


def test_a_sql_kpi_may_return_one_value_per_segment(deployed: Deployed) -> None:
    log_loans(deployed)
    sql = "SELECT input_sex, avg(prediction) FROM predictions GROUP BY input_sex ORDER BY input_sex"
    result = run(deployed, "approval-by-sex", sql=sql, metric="approval_rate")
    values = {p["segment"]: p["value"] for p in result["points"]}
    assert values == pytest.approx(
        {"F": APPROVED[SEX == "F"].mean(), "M": APPROVED[SEX == "M"].mean()}
    )
    assert result["status"] == "ok"


def test_the_predictions_table_has_meta_prefixed_inputs_outputs_and_labels() -> None:
    window = PredictionWindow(
        start=None,
        end=datetime.now(UTC),
        meta=pa.table({"request_id": ["a"], "at": [datetime.now(UTC)], "version": [1]}),
        inputs=pa.table({"age": [30.0], "prediction": [1.0]}),
        outputs=pa.table({"prediction": [1.0], "version": ["v9"]}),
        labels=None,
        total_rows=1,
        sampled=False,
    )
    table = predictions_table(window)
    assert table.column_names == [
        "request_id",
        "time",
        "version",
        "input_age",
        "input_prediction",
        "prediction",
        "output_version",
        "label",
        "label_number",
    ]
    assert table.column("label").null_count == 1
    assert run_sql_kpi("SELECT sum(input_age) + count(label) FROM predictions", table) == [
        ("", 30.0)
    ]


def test_a_kpi_query_must_answer_numbers(deployed: Deployed) -> None:
    table = pa.table({"prediction": [1.0, 0.0], "label": ["1", None]})
    for sql, message in (
        ("SELECT 1, 2, 3 FROM predictions", "returned 3 columns"),
        ("SELECT label FROM predictions", "returns one row"),
        ("SELECT 'high' FROM predictions LIMIT 1", "returns numbers"),
        ("SELECT nope FROM predictions", "the KPI query failed"),
        ("SELECT i, i FROM range(60) t(i)", "at most 50 rows"),
    ):
        with pytest.raises(InvalidInput, match=message):
            run_sql_kpi(sql, table)
    assert run_sql_kpi("SELECT avg(prediction) FILTER (WHERE false) FROM predictions", table) == [
        ("", None)
    ]
    log_loans(deployed, labels=False)
    unlabelled = f"{COST_SQL} WHERE label IS NOT NULL"  # no labels posted: avg of no rows
    result = run(deployed, "no-labels", sql=unlabelled, metric="cost")
    assert result["status"] == "not enough data"
    assert "no value" in result["points"][0]["detail"]["note"]


def test_a_query_that_runs_too_long_is_interrupted() -> None:
    table = pa.table({"prediction": [1.0]})
    started = datetime.now(UTC)
    with pytest.raises(InvalidInput, match="ran longer than 0.3 s"):
        run_sql_kpi("SELECT count(*) FROM range(1000000000000) t(i)", table, timeout_s=0.3)
    assert datetime.now(UTC) - started < timedelta(seconds=5)


# -- hostile SQL -----------------------------------------------------------------------------


def hostile(target: Path) -> list[tuple[str, str]]:
    return [
        ("SELECT * FROM read_csv('/etc/passwd')", "table function 'read_csv'"),
        ("SELECT count(*) FROM read_parquet('/etc/*.parquet')", "table function 'read_parquet'"),
        ("SELECT * FROM '/etc/passwd'", "only the table 'predictions'"),
        (f"COPY (SELECT * FROM predictions) TO '{target}'", "not COPY"),
        (f"ATTACH '{target}.db' AS other", "not ATTACH"),
        ("INSTALL httpfs", "must be a SELECT"),
        ("LOAD httpfs", "must be a SELECT"),
        ("PRAGMA version", "not PRAGMA"),
        ("CREATE TABLE t AS SELECT 1", "not CREATE"),
        ("SELECT 1; DROP TABLE predictions", "one statement; it has 2"),
        ("SELECT * FROM duckdb_settings()", "table function 'duckdb_settings'"),
        ("SELECT * FROM query('SELECT 1')", "table function 'query'"),
        ("SELECT * FROM information_schema.tables", "only the table 'predictions'"),
        ("SET enable_external_access = true", "not SET"),
        ("SELEC 1", "does not parse"),
    ]


def test_hostile_sql_is_refused_when_a_monitor_is_made(deployed: Deployed, tmp_path: Path) -> None:
    sink = tmp_path / "sink"
    sink.mkdir()
    before = deployed.api.get(f"/api/v1/deployments/{DEPLOYMENT}/monitors").json()
    for sql, message in hostile(sink / "stolen.csv"):
        refused = create(deployed, "evil", sql=sql, metric="evil")
        assert refused.status_code == 422, sql
        assert message in refused.json()["error"]["message"], (sql, refused.text)
    assert deployed.api.get(f"/api/v1/deployments/{DEPLOYMENT}/monitors").json() == before
    assert list(sink.iterdir()) == []


def test_hostile_sql_stored_behind_the_apis_back_fails_when_run(
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    log_loans(deployed, labels=False)
    created = create(deployed, "later-evil", sql=COST_SQL, metric="cost")
    monitor = created.json()["id"]
    target = tmp_path / "stolen.csv"
    with deployed.steward.db.write() as session:
        spec = {"type": "business_kpi", "metric": "cost", "window": {"hours": 1}}
        spec["sql"] = f"COPY (SELECT * FROM predictions) TO '{target}'"
        session.execute(update(Monitor).where(Monitor.id == monitor).values(spec=spec))
    result = run_monitor(deployed.steward, monitor)
    assert result.status == "failed" and "not COPY" in result.error
    assert not target.exists()


def test_the_sandbox_refuses_files_and_settings_even_without_the_check(tmp_path: Path) -> None:
    con = sandbox(pa.table({"prediction": [1.0, 0.0]}))
    target = tmp_path / "out.csv"
    for sql in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        f"COPY (SELECT * FROM predictions) TO '{target}'",
        f"ATTACH '{tmp_path / 'other.db'}' AS other",
        f"EXPORT DATABASE '{tmp_path / 'dump'}'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET enable_external_access",
    ):
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    assert con.execute("SELECT avg(prediction) FROM predictions").fetchall() == [(0.5,)]
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]
    con.close()
    assert list(tmp_path.iterdir()) == []


# -- Python function KPIs --------------------------------------------------------------------


def women_approval(window: PredictionWindow) -> float:
    """Share of women approved."""
    women = np.array(window.inputs.column("sex").to_pylist()) == "F"
    return float(window.outputs.column("prediction").to_numpy()[women].mean())


def approval_by_sex(window: PredictionWindow) -> dict[str, float]:
    sex = np.array(window.inputs.column("sex").to_pylist())
    predicted = window.outputs.column("prediction").to_numpy()
    return {s: float(predicted[sex == s].mean()) for s in ("F", "M")}


@pytest.fixture
def registered_kpis() -> Iterator[None]:
    KPIS.add("women_approval", women_approval)
    KPIS.add("approval_by_sex", approval_by_sex)
    yield
    KPIS.unregister("women_approval")
    KPIS.unregister("approval_by_sex")


def test_a_registered_function_is_a_kpi_with_a_threshold(
    deployed: Deployed,
    registered_kpis: None,
) -> None:
    log_loans(deployed)
    result = run(deployed, "women", function="women_approval", thresholds={"kpi": {"min": 0.9}})
    (point,) = result["points"]
    assert point["column"] == "women_approval"
    assert point["value"] == pytest.approx(APPROVED[SEX == "F"].mean())
    assert point["status"] == "breached" and "metric.breached" in result["events"]
    assert point["detail"]["band"] == "no band for a registered function without rows"
    split = run(deployed, "by-sex", function="approval_by_sex", metric="approval")
    assert {p["segment"]: p["column"] for p in split["points"]} == {
        "F": "approval",
        "M": "approval",
    }


def test_built_in_kpis_carry_a_bootstrap_band(deployed: Deployed) -> None:
    log_loans(deployed, labels=False)
    rate = run(deployed, "positive-rate", function="positive_rate")["points"][0]
    assert rate["column"] == "positive_rate" and rate["value"] == pytest.approx(APPROVED.mean())
    assert rate["low"] < rate["value"] < rate["high"] and rate["high"] - rate["low"] < 0.15
    mean = run(deployed, "mean-prediction", function="mean_prediction", bootstrap=50)
    assert mean["points"][0]["value"] == pytest.approx(APPROVED.mean())
    assert mean["points"][0]["low"] is not None


def test_a_kpi_names_exactly_one_known_source(deployed: Deployed) -> None:
    for spec, message in (
        ({"function": "no_such_kpi"}, "unknown kpi 'no_such_kpi'"),
        ({"function": "positive_rate", "sql": COST_SQL}, "exactly one of"),
        ({}, "exactly one of"),
        ({"sql": COST_SQL}, "needs 'metric'"),
        ({"function": "positive_rate", "thresholds": {"revenue": {"min": 1}}}, "no metric"),
    ):
        refused = create(deployed, "bad", **spec)
        assert refused.status_code == 422, spec
        assert message in refused.json()["error"]["message"], refused.text
    with pytest.raises(ValueError, match="already registered"):
        KPIS.add("positive_rate", women_approval)


def test_kpis_are_found_through_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package that lists a bare function under ``modelsteward.kpis`` provides a KPI."""
    (tmp_path / "acme_kpis.py").write_text(
        textwrap.dedent(
            '''
            def churn_cost(window):
                """Cost of churned customers."""
                return 42.0
            '''
        )
    )
    info = tmp_path / "acme_kpis-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-kpis\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[modelsteward.kpis]\nchurn_cost = acme_kpis:churn_cost\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = KpiRegistry({})
    found = registry.get("churn_cost")
    assert found.description == "Cost of churned customers."
    assert found(None) == 42.0  # type: ignore[arg-type]


def test_every_spec_in_the_docs_is_a_valid_monitor_spec() -> None:
    doc = Path(__file__).resolve().parents[3] / "docs" / "monitoring-fairness-and-kpis.md"
    blocks = re.findall(r"```json\n(.*?)```", doc.read_text(), flags=re.S)
    assert len(blocks) == 4
    assert {parse_spec(json.loads(block)).type for block in blocks} == {"fairness", "business_kpi"}


@pytest.mark.parametrize(
    ("classes", "positive"),
    [
        (np.array([0, 0]), 1),
        (np.array(["0"]), "1"),
        (np.array([False]), True),
        (np.array(["no"]), "yes"),
        (np.array(["false"]), "true"),
        (np.array([0, 1]), 1),
        (np.array(["approved"]), "approved"),  # no convention to go by: the class there
    ],
)
def test_a_window_of_only_negatives_has_its_positive_class_absent(
    classes: np.ndarray, positive: object
) -> None:
    assert positive_of(np.unique(classes)) == positive


def test_the_positive_rate_of_a_window_that_approves_nobody_is_zero() -> None:
    window = PredictionWindow(
        start=None,
        end=datetime.now(UTC),
        meta=pa.table({"request_id": ["a", "b"], "at": [datetime.now(UTC)] * 2, "version": [1, 1]}),
        inputs=pa.table({"age": [30.0, 40.0]}),
        outputs=pa.table({"prediction": [0, 0], "probability": [0.1, 0.2]}),
        labels=None,
        total_rows=2,
        sampled=False,
    )
    assert KPIS.discovered()["positive_rate"](window) == 0.0
