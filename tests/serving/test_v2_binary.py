"""Triton's binary tensor extension: tritonclient's default request body is read, and
outputs asked for as binary come back as binary; bad sizes are clear 400s.

The bodies here are built as tritonclient builds them (``_get_inference_request`` in
``tritonclient/http/_utils.py``): ``json.dumps`` of the request, each binary input with
``parameters.binary_data_size`` and no ``data``, no outputs listed meaning
``parameters.binary_data_output: true``, then every input's raw bytes in input order;
the JSON's length goes in ``Inference-Header-Content-Length``. No tritonclient needed,
except for the one test that drives the real client.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from tests.helpers import (
    admin_token_of,
    fitted_model,
    settings_for,
    sklearn_spec,
    skops_file,
    training_frame,
    upload,
    version_form,
)
from tests.serving.test_deployments import SCHEMA, deploy

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.errors import BadRequest
from modelsteward.identity.users import ensure_bootstrap_admin
from modelsteward.serving.v2 import decode_request
from modelsteward.serving.v2_binary import split_body

# Serving is tested on its own here: models follow no life cycle (see test_admission.py).
pytestmark = pytest.mark.usefixtures("ungoverned")

INFER = "/v2/models/churn-production/infer"
HEADER = "Inference-Header-Content-Length"


def raw_of(array: np.ndarray, datatype: str) -> bytes:
    """An input's raw bytes as tritonclient's ``set_data_from_numpy`` makes them."""
    if datatype == "BYTES":  # serialize_byte_tensor: a 4-byte little-endian length each
        items = [v if isinstance(v, bytes) else str(v).encode() for v in array.ravel()]
        return b"".join(struct.pack("<I", len(v)) + v for v in items)
    return np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()


def triton_body(
    inputs: list[tuple[str, np.ndarray, str]],
    outputs: list[tuple[str, bool]] | None = None,
    request_id: str = "",
) -> tuple[bytes, str]:
    """(body, Inference-Header-Content-Length) as tritonclient builds them."""
    request: dict[str, Any] = {}
    if request_id:
        request["id"] = request_id
    raws = [raw_of(array, datatype) for _, array, datatype in inputs]
    request["inputs"] = [
        {
            "name": name,
            "shape": list(array.shape),
            "datatype": datatype,
            "parameters": {"binary_data_size": len(raw)},
        }
        for (name, array, datatype), raw in zip(inputs, raws, strict=True)
    ]
    if outputs:
        request["outputs"] = [
            {"name": name, "parameters": {"binary_data": binary}} for name, binary in outputs
        ]
    else:
        request["parameters"] = {"binary_data_output": True}
    header = json.dumps(request)
    return header.encode() + b"".join(raws), str(len(header))


def read_binary_response(response: httpx.Response) -> dict[str, np.ndarray]:
    """What tritonclient's ``InferResult.as_numpy`` reads out of a binary response."""
    length = int(response.headers[HEADER])
    header = json.loads(response.content[:length])
    tail, offset, arrays = response.content[length:], 0, {}
    for output in header["outputs"]:
        size = (output.get("parameters") or {}).get("binary_data_size")
        if size is None:
            arrays[output["name"]] = np.array(output["data"]).reshape(output["shape"])
            continue
        chunk = tail[offset : offset + size]
        offset += size
        kinds = {"INT64": "<i8", "FP64": "<f8", "FP32": "<f4", "BOOL": "?", "INT32": "<i4"}
        arrays[output["name"]] = np.frombuffer(chunk, kinds[output["datatype"]]).reshape(
            output["shape"]
        )
    assert offset == len(tail)
    return arrays


def test_a_tritonclient_binary_body_decodes_every_datatype() -> None:
    table = {
        "columns": [
            {"name": "age", "type": "integer", "dtype": "int64"},
            {"name": "income", "type": "float", "dtype": "float32"},
            {"name": "member", "type": "boolean"},
            {"name": "city", "type": "string"},
            {"name": "score", "type": "float", "dtype": "float16"},
        ]
    }
    inputs = [
        ("age", np.array([31, -40, 2**40], dtype=np.int64), "INT64"),
        ("income", np.array([1.5, -2.25, 3e9], dtype=np.float32), "FP32"),
        ("member", np.array([True, False, True]), "BOOL"),
        ("city", np.array([b"Oslo", b"Lima", "Zürich".encode()], dtype=object), "BYTES"),
        ("score", np.array([0.5, 1.0, -3.0], dtype=np.float16), "FP16"),
    ]
    body, length = triton_body(inputs, request_id="req-9")
    header, binary = _split(body, length)
    decoded = decode_request(header, table, binary)
    frame = decoded.inputs
    assert decoded.request_id == "req-9"
    assert frame["age"].tolist() == [31, -40, 2**40]
    assert frame["income"].dtype == np.float32
    np.testing.assert_array_equal(frame["income"], inputs[1][1])
    assert frame["member"].tolist() == [True, False, True]
    assert frame["city"].tolist() == ["Oslo", "Lima", "Zürich"]
    np.testing.assert_array_equal(frame["score"].astype(np.float16), inputs[4][1])


def test_binary_and_json_inputs_mix_in_one_request() -> None:
    header = {
        "inputs": [
            {"name": "age", "shape": [2], "datatype": "INT64", "data": [31, 40]},
            {
                "name": "income",
                "shape": [2],
                "datatype": "FP64",
                "parameters": {"binary_data_size": 16},
            },
        ]
    }
    text = json.dumps(header).encode()
    body = text + np.array([55.0, 60.5], dtype="<f8").tobytes()
    parsed, binary = _split(body, str(len(text)))
    frame = decode_request(parsed, SCHEMA, binary).inputs
    assert frame.to_dict("list") == {"age": [31, 40], "income": [55.0, 60.5]}


def _split(body: bytes, length: str) -> tuple[Any, bytes | None]:
    header, binary = split_body(body, length)
    return json.loads(header), binary


@pytest.fixture
def served(api: httpx.Client, tmp_path: Path) -> httpx.Client:
    api.post("/api/v1/models", json={"name": "churn"})
    api.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec(input_schema=SCHEMA)),
        files=[upload(skops_file(tmp_path, seed=0))],
    )
    assert deploy(api, 1)["status"] == "applied"
    return api


def churn_inputs(rows: int = 80) -> tuple[list[tuple[str, np.ndarray, str]], Any]:
    frame, _ = training_frame(rows=rows)
    inputs = [
        ("age", frame["age"].to_numpy(dtype=np.int64), "INT64"),
        ("income", frame["income"].to_numpy(dtype=np.float64), "FP64"),
    ]
    return inputs, fitted_model().predict(frame)


def test_a_binary_request_is_answered_with_binary_outputs(served: httpx.Client) -> None:
    inputs, expected = churn_inputs()
    body, length = triton_body(inputs, request_id="batch-1")
    response = served.post(INFER, content=body, headers={HEADER: length})  # no content type
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    header = json.loads(response.content[: int(response.headers[HEADER])])
    assert header["id"] == "batch-1" and "data" not in header["outputs"][0]
    np.testing.assert_array_equal(read_binary_response(response)["predict"], expected)


def test_outputs_asked_as_json_are_answered_as_json(served: httpx.Client) -> None:
    inputs, expected = churn_inputs(5)
    body, length = triton_body(inputs, outputs=[("predict", False)])
    response = served.post(
        INFER, content=body, headers={HEADER: length, "content-type": "application/octet-stream"}
    )
    assert response.status_code == 200, response.text
    assert HEADER not in response.headers
    assert response.json()["outputs"][0]["data"] == expected.tolist()


def test_the_real_tritonclient_with_its_binary_default(served: httpx.Client) -> None:
    triton = pytest.importorskip("tritonclient.http")
    inputs, expected = churn_inputs()
    client = triton.InferenceServerClient(url=str(served.base_url).removeprefix("http://"))
    headers = {"Authorization": served.headers["authorization"]}
    try:
        tensors = []
        for name, array, datatype in inputs:
            tensor = triton.InferInput(name, list(array.shape), datatype)
            tensor.set_data_from_numpy(array)  # binary_data=True: tritonclient's default
            tensors.append(tensor)
        result = client.infer("churn-production", tensors, headers=headers)
        np.testing.assert_array_equal(result.as_numpy("predict"), expected)
        asked = [triton.InferRequestedOutput("predict")]  # binary by default too
        again = client.infer("churn-production", tensors, outputs=asked, headers=headers)
        np.testing.assert_array_equal(again.as_numpy("predict"), expected)
    finally:
        client.close()


def _with(body: bytes, length: str, **changes: Any) -> tuple[bytes, str]:
    """The same request with its JSON header edited (the binary tail kept)."""
    header = json.loads(body[: int(length)])
    for index, parameters in changes.get("sizes", {}).items():
        header["inputs"][index]["parameters"] = parameters
    text = json.dumps(header).encode()
    tail = body[int(length) :] + changes.get("extra", b"")
    return text + tail[: changes.get("cut", len(tail))], str(len(text))


def _bad_requests() -> dict[str, tuple[tuple[bytes, dict[str, str]], str]]:
    inputs, _ = churn_inputs(4)
    body, length = triton_body(inputs)
    json_only = body[: int(length)]
    cut, _ = _with(body, length, cut=20)
    extra, extra_length = _with(body, length, extra=b"\x00" * 8)
    short, short_length = _with(body, length, sizes={0: {"binary_data_size": 24}})
    wrong, wrong_length = _with(body, length, sizes={1: {"binary_data_size": "32"}})
    strings = [("age", inputs[0][1], "INT64"), ("city", np.array([b"Oslo"], object), "BYTES")]
    text_body, text_length = triton_body(strings)
    broken = text_body[:-6] + struct.pack("<I", 99) + b"Os"
    return {
        "header not a number": ((body, {HEADER: "12abc"}), HEADER),
        "header past the body": ((body, {HEADER: str(len(body) + 1)}), "must lie within"),
        "header zero": ((body, {HEADER: "0"}), "must lie within"),
        "no header": ((json_only, {"content-type": "application/json"}), HEADER),
        "size past the end": ((cut, {HEADER: length}), "runs past the end"),
        "bytes left over": ((extra, {HEADER: extra_length}), "8 bytes of binary data"),
        "size and shape disagree": ((short, {HEADER: short_length}), "needs 4 INT64 values"),
        "size not a number": ((wrong, {HEADER: wrong_length}), "binary_data_size must be"),
        "bytes element too long": ((broken, {HEADER: text_length}), "'city' (BYTES)"),
    }


BAD = _bad_requests()


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_binary_bodies_are_400_naming_what_is_wrong(served: httpx.Client, case: str) -> None:
    (body, headers), expected = BAD[case]
    response = served.post(INFER, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert expected in response.json()["error"]
    inputs, predictions = churn_inputs(4)
    good, length = triton_body(inputs)
    after = served.post(INFER, content=good, headers={HEADER: length})
    assert after.status_code == 200
    np.testing.assert_array_equal(read_binary_response(after)["predict"], predictions)


def test_a_pickled_body_is_still_refused_without_the_extension(served: httpx.Client) -> None:
    response = served.post(
        INFER, content=b"\x80\x04\x95", headers={"content-type": "application/octet-stream"}
    )
    assert response.status_code == 415


def test_split_body_refuses_a_header_longer_than_the_body() -> None:
    with pytest.raises(BadRequest, match="Inference-Header-Content-Length is 9"):
        split_body(b"{}", "9")


JSON_LIMIT = 64 * 1024


@pytest.fixture
def small(tmp_path: Path) -> Iterator[httpx.Client]:
    """A live server with a 64 KiB JSON limit (refused before any route is looked up)."""
    instance = Steward(settings_for(tmp_path / "home", STEWARD_MAX_JSON_BYTES=str(JSON_LIMIT)))
    ensure_bootstrap_admin(instance)
    headers = {"Authorization": f"Bearer {admin_token_of(instance)}"}
    try:
        with (
            serve_in_thread(instance) as url,
            httpx.Client(base_url=url, headers=headers, timeout=30) as client,
        ):
            yield client
    finally:
        instance.close()


def test_a_binary_body_over_the_json_limit_is_413(small: httpx.Client) -> None:
    rows = JSON_LIMIT // 8 + 10
    inputs = [
        ("age", np.arange(rows, dtype=np.int64), "INT64"),
        ("income", np.ones(rows), "FP64"),
    ]
    body, length = triton_body(inputs)
    response = small.post(INFER, content=body, headers={HEADER: length})
    assert response.status_code == 413, response.text
    assert "STEWARD_MAX_JSON_BYTES" in response.text


def test_more_bytes_elements_than_the_shape_holds_are_refused() -> None:
    elements = b"".join(struct.pack("<I", 1) + b"a" for _ in range(5))
    header = {
        "inputs": [
            {"name": "city", "shape": [2], "datatype": "BYTES"}
            | {"parameters": {"binary_data_size": len(elements)}}
        ]
    }
    text = json.dumps(header).encode()
    parsed, binary = _split(text + elements, str(len(text)))
    with pytest.raises(BadRequest, match="shape needs 2 BYTES elements, got more"):
        decode_request(parsed, None, binary)
