"""A request that carries no rows is the caller's mistake: 400, counted apart from model errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.helpers import sklearn_spec, skops_file, token_for, upload, version_form
from tests.monitoring.test_runner import Deployed, deployed  # noqa: F401 (fixture)
from tests.serving.test_deployments import ROW, SCHEMA, deploy

pytestmark = pytest.mark.usefixtures("ungoverned")

PREDICT = "/api/v1/deployments/churn-production/predict"
INFER = "/v2/models/churn-production/infer"

EMPTY = {
    "v2 shape [0, 2]": (
        INFER,
        {"inputs": [{"name": "x", "shape": [0, 2], "datatype": "FP64", "data": []}]},
    ),
    "v2 columns with no data": (
        INFER,
        {
            "inputs": [
                {"name": "age", "shape": [0], "datatype": "INT64", "data": []},
                {"name": "income", "shape": [0], "datatype": "FP64", "data": []},
            ]
        },
    ),
    "dataframe_split with no data": (
        PREDICT,
        {"dataframe_split": {"columns": ["age", "income"], "data": []}},
    ),
    "dataframe_split with neither columns nor data": (PREDICT, {"dataframe_split": {"data": []}}),
    "inputs []": (PREDICT, {"inputs": []}),
    "instances []": (PREDICT, {"instances": []}),
    "inputs of empty columns": (PREDICT, {"inputs": {"age": [], "income": []}}),
    "records []": (PREDICT, []),
}


@pytest.fixture
def served(api: httpx.Client, tmp_path: Path) -> httpx.Client:
    api.post("/api/v1/models", json={"name": "churn"})
    api.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec(input_schema=SCHEMA)),
        files=[upload(skops_file(tmp_path))],
    )
    assert deploy(api, 1)["status"] == "applied"
    return api


def _message(response: httpx.Response) -> str:
    error = response.json()["error"]
    return error if isinstance(error, str) else error["message"]


@pytest.mark.parametrize("case", sorted(EMPTY))
def test_a_request_with_no_rows_is_answered_400_naming_the_problem(
    served: httpx.Client, case: str
) -> None:
    path, body = EMPTY[case]
    response = served.post(path, json=body)
    assert response.status_code == 400, response.text
    assert "no rows" in _message(response)


def test_requests_with_no_rows_count_as_caller_errors_not_model_errors(
    served: httpx.Client,
) -> None:
    for _ in range(3):
        assert served.post(PREDICT, json={"inputs": []}).status_code == 400
    assert served.post(PREDICT, json=[ROW]).status_code == 200
    text = served.get("/metrics").text
    caller = [
        line
        for line in text.splitlines()
        if line.startswith("steward_request_caller_errors_total{")
        and 'deployment="churn-production"' in line
    ]
    assert caller and float(caller[0].rsplit(" ", 1)[1]) == 3.0, caller
    assert not any(
        line.startswith("steward_request_errors_total{") and 'deployment="churn-production"' in line
        for line in text.splitlines()
    )


def test_an_application_sending_empty_requests_cannot_breach_the_operations_error_rate(
    deployed: Deployed,  # noqa: F811
) -> None:
    token = token_for(deployed.steward, "application")
    deployed.send(3)
    path = "/api/v1/deployments/churn-production/predict"
    for _ in range(20):
        response = deployed.api.post(
            path, json={"inputs": []}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 400
    points = {p["metric"]: p for p in deployed.run("operations")["points"]}
    assert points["error_rate"]["value"] == 0.0 and points["error_rate"]["status"] == "ok"
    assert points["caller_error_rate"]["value"] == pytest.approx(20 / 21)
    assert not [
        e
        for e in deployed.events
        if e.name == "metric.breached" and e.payload.get("metric") == "error_rate"
    ]
