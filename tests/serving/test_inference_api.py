"""Consuming applications: V2 with a third-party client, MLflow bodies, bad input, the log, labels, metrics."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.helpers import (
    fitted_model,
    follow_no_lifecycle,
    sklearn_spec,
    skops_file,
    training_frame,
    upload,
    version_form,
)
from tests.serving.test_deployments import ROW, SCHEMA, deploy, wait_for

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.serving.labels import LabelStore
from modelsteward.serving.predlog import PredictionLog

# Serving is tested on its own here: models follow no life cycle (see test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

PREDICT = "/api/v1/deployments/churn-production/predict"


@pytest.fixture
def served(api: httpx.Client, tmp_path: Path) -> httpx.Client:
    api.post("/api/v1/models", json={"name": "churn"})
    path = skops_file(tmp_path, seed=0)
    api.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec(input_schema=SCHEMA)),
        files=[upload(path)],
    )
    assert deploy(api, 1)["status"] == "applied"
    return api


def test_a_third_party_v2_client_gets_predictions(served: httpx.Client) -> None:
    import tritonclient.http as triton

    host = str(served.base_url).removeprefix("http://")
    headers = {"Authorization": served.headers["authorization"]}
    client = triton.InferenceServerClient(url=host)
    try:
        assert client.is_server_live()
        assert client.is_model_ready("churn-production", headers=headers)
        metadata = client.get_model_metadata("churn-production", headers=headers)
        assert [i["name"] for i in metadata["inputs"]] == ["age", "income"]
        frame, _ = training_frame()
        inputs = []
        for column, datatype in (("age", "INT64"), ("income", "FP64")):
            tensor = triton.InferInput(column, [len(frame)], datatype)
            tensor.set_data_from_numpy(frame[column].to_numpy(), binary_data=False)
            inputs.append(tensor)
        result = client.infer("churn-production", inputs, headers=headers)
        np.testing.assert_array_equal(result.as_numpy("predict"), fitted_model().predict(frame))
    finally:
        client.close()


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["age", "income"], "data": [[40, 55.0]]}},
        {"dataframe_records": [ROW]},
        {"inputs": {"age": [40], "income": [55.0]}},
    ],
)
def test_mlflow_callers_switch_without_code_changes(served: httpx.Client, body: dict) -> None:
    response = served.post(PREDICT, json=body)
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 1


BAD = {
    "malformed json": ({"content": b"{oops", "headers": {"content-type": "application/json"}}, 400),
    "pickled body": (
        {"content": b"\x80\x04\x95", "headers": {"content-type": "application/octet-stream"}},
        415,
    ),
    "form body": (
        {"content": b"a=1", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        415,
    ),
    "missing column": ({"json": [{"age": 40}]}, 422),
    "extra column": ({"json": [{**ROW, "ssn": "SECRET-123"}]}, 422),
    "wrong type": ({"json": [{"age": "SECRET-123", "income": 1.0}]}, 422),
    "deep json": (
        {
            "content": b"[" * 100_000 + b"]" * 100_000,
            "headers": {"content-type": "application/json"},
        },
        400,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_and_the_next_request_succeeds(
    served: httpx.Client, case: str
) -> None:
    kwargs, status = BAD[case]
    response = served.post(PREDICT, **kwargs)
    assert response.status_code == status, response.text
    assert "SECRET-123" not in response.text
    assert served.post(PREDICT, json=[ROW]).status_code == 200


def test_unknown_deployments_and_versions_are_404(served: httpx.Client) -> None:
    assert served.post("/api/v1/deployments/ghost/predict", json=[ROW]).status_code == 404
    assert served.post("/v2/models/ghost/infer", json={"inputs": []}).status_code == 404
    v2 = {
        "inputs": [
            {"name": "age", "shape": [1], "datatype": "INT64", "data": [40]},
            {"name": "income", "shape": [1], "datatype": "FP64", "data": [55.0]},
        ]
    }
    assert served.post("/v2/models/churn-production/versions/7/infer", json=v2).status_code == 404
    assert served.post("/v2/models/churn-production/versions/1/infer", json=v2).status_code == 200


def test_an_application_token_may_predict_but_not_deploy(
    served: httpx.Client, steward: Steward
) -> None:
    from tests.helpers import token_for

    app_headers = {"Authorization": f"Bearer {token_for(steward, 'application')}"}
    with httpx.Client(base_url=str(served.base_url), headers=app_headers) as app:
        assert app.post(PREDICT, json=[ROW]).status_code == 200
        assert (
            app.post("/api/v1/deployments", json={"model": "churn", "version": 1}).status_code
            == 403
        )
        assert app.get("/api/v1/models").status_code == 403


def test_a_clean_shutdown_loses_no_prediction_record(tmp_path: Path) -> None:
    from tests.helpers import admin_token_of, settings_for

    from modelsteward.identity.users import ensure_bootstrap_admin

    steward = follow_no_lifecycle(
        Steward(settings_for(tmp_path / "home", STEWARD_LOG_FLUSH_SECONDS="3600"))
    )
    ensure_bootstrap_admin(steward)
    with (
        serve_in_thread(steward) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {admin_token_of(steward)}"}
        ) as api,
    ):
        api.post("/api/v1/models", json={"name": "churn"})
        path = skops_file(tmp_path / "m")
        api.post(
            "/api/v1/models/churn/versions",
            data=version_form(sklearn_spec(input_schema=SCHEMA)),
            files=[upload(path)],
        )
        deploy(api, 1)
        ids = {api.post(PREDICT, json=[ROW]).headers["x-request-id"] for _ in range(50)}
    log = PredictionLog(steward.settings.logs_url)
    logged = set(log.read("churn-production").column("request_id").to_pylist())
    parts = log.files("churn-production")
    log.close()
    steward.close()
    assert ids <= logged and len(ids) == 50
    # compaction is on by default, so the server leaves compressing to it
    codecs = {pq.read_metadata(p).row_group(0).column(0).compression for p in parts}
    assert codecs == {"UNCOMPRESSED"}


def test_labels_join_predictions_by_request_id_and_key(
    served: httpx.Client, steward: Steward
) -> None:
    first = served.post(PREDICT, json=[ROW])
    served.post(PREDICT, json=[ROW], headers={"X-Request-Key": "order-77"})
    accepted = served.post(
        "/api/v1/deployments/churn-production/labels",
        json=[{"request_id": first.headers["x-request-id"], "label": 1}],
    )
    assert accepted.status_code == 201
    assert accepted.json() == {"accepted": 1, "matched": 1, "unmatched": 0}
    csv = b"key,label\norder-77,0\n"
    bulk = served.post(
        "/api/v1/deployments/churn-production/labels",
        content=csv,
        headers={"content-type": "text/csv"},
    )
    assert bulk.json() == {"accepted": 1, "matched": 1, "unmatched": 0}
    refused = served.post("/api/v1/deployments/churn-production/labels", json=[{"label": 1}])
    assert refused.status_code == 422
    assert (
        served.post("/api/v1/deployments/ghost/labels", json=[{"key": "a", "label": 1}]).status_code
        == 404
    )


def test_a_v2_client_id_is_logged_so_labels_posted_with_it_join(
    served: httpx.Client, steward: Steward
) -> None:
    v2 = {
        "id": "client-order-9",
        "inputs": [
            {"name": "age", "shape": [1], "datatype": "INT64", "data": [40]},
            {"name": "income", "shape": [1], "datatype": "FP64", "data": [55.0]},
        ],
    }
    answered = served.post("/v2/models/churn-production/infer", json=v2)
    assert answered.status_code == 200 and answered.json()["id"] == "client-order-9"
    labels = "/api/v1/deployments/churn-production/labels"
    posted = served.post(labels, json=[{"request_id": "client-order-9", "label": 1}])
    assert posted.status_code == 201
    assert posted.json() == {"accepted": 1, "matched": 1, "unmatched": 0}
    stray = served.post(labels, json=[{"request_id": "nobody-sent-this", "label": 0}])
    assert stray.json() == {"accepted": 1, "matched": 0, "unmatched": 1}
    store = LabelStore(steward.settings.logs_url)
    with PredictionLog(steward.settings.logs_url) as log:
        joined = store.joined(log, "churn-production")
    by_id = {row["request_id"]: row["label"] for row in joined.to_pylist()}
    assert by_id["client-order-9"] == "1"
    long_id = {**v2, "id": "x" * 257}
    refused = served.post("/v2/models/churn-production/infer", json=long_id)
    assert refused.status_code == 400 and "at most 256" in refused.text


def test_metrics_count_requests_per_deployment_version_and_route(served: httpx.Client) -> None:
    for _ in range(3):
        served.post(PREDICT, json=[ROW])
    text = served.get("/metrics").text
    assert (
        'steward_requests_total{deployment="churn-production",route="champion",status="200",version="1"} 3.0'
        in text
    )
    assert (
        "steward_request_latency_seconds_bucket" in text and "process_resident_memory_bytes" in text
    )


def test_readiness_is_503_until_a_deployment_is_loaded(api: httpx.Client, tmp_path: Path) -> None:
    assert api.get("/v2/health/ready").status_code == 200  # nothing deployed, nothing pending
    api.post("/api/v1/models", json={"name": "churn"})
    path = skops_file(tmp_path)
    api.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec(input_schema=SCHEMA)),
        files=[upload(path)],
    )
    assert api.get("/v2/models/churn-production/ready").status_code == 404
    revision = api.post("/api/v1/deployments", json={"model": "churn", "version": 1}).json()
    wait_for(api, revision)
    deadline = time.monotonic() + 5
    while (
        api.get("/v2/models/churn-production/ready").status_code != 200
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert api.get("/v2/models/churn-production/ready").status_code == 200
    assert api.get("/v2/health/ready").status_code == 200


def test_a_1_gib_body_is_refused_before_it_is_read(served: httpx.Client) -> None:
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(str(served.base_url))
    assert url.hostname and url.port
    request = (
        f"POST {PREDICT} HTTP/1.1\r\nHost: {url.hostname}\r\nAuthorization: {served.headers['authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {2**30}\r\n\r\n["
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request.encode())
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413")
    assert served.post(PREDICT, json=[ROW]).status_code == 200


def test_v2_outputs_are_named_as_the_metadata_announces(api: httpx.Client, tmp_path: Path) -> None:
    api.post("/api/v1/models", json={"name": "churn"})
    path = skops_file(tmp_path)
    spec = sklearn_spec(
        input_schema=SCHEMA,
        output_schema={
            "columns": [{"name": "churn_risk", "type": "tensor", "dtype": "int64", "shape": [-1]}]
        },
    )
    api.post("/api/v1/models/churn/versions", data=version_form(spec), files=[upload(path)])
    deploy(api, 1)
    announced = [o["name"] for o in api.get("/v2/models/churn-production").json()["outputs"]]
    v2 = {
        "inputs": [
            {"name": "age", "shape": [1], "datatype": "INT64", "data": [40]},
            {"name": "income", "shape": [1], "datatype": "FP64", "data": [55.0]},
        ]
    }
    answered = [
        o["name"] for o in api.post("/v2/models/churn-production/infer", json=v2).json()["outputs"]
    ]
    assert announced == answered == ["churn_risk"]


def test_v2_errors_have_the_protocol_shape_the_readme_documents(served: httpx.Client) -> None:
    bad = {"inputs": [{"name": "age", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3]}]}
    answered = served.post("/v2/models/churn-production/infer", json=bad)
    body = answered.json()
    assert answered.status_code == 400 and set(body) == {"error", "code", "request_id"}
    assert isinstance(body["error"], str) and body["code"] == "bad_request"
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f'{{"error": "{body["error"]}", "code": "bad_request"' in readme
