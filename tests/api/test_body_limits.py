"""JSON bodies have their own, small limit, enforced while streaming; uploads keep theirs."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tests.helpers import (
    admin_token_of,
    settings_for,
    sklearn_spec,
    skops_file,
    upload,
    version_form,
)

from modelsteward.api.server import serve_in_thread
from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.identity.users import ensure_bootstrap_admin

JSON_LIMIT = 64 * 1024


@pytest.fixture
def small(tmp_path: Path) -> Iterator[httpx.Client]:
    """A live server whose JSON limit is 64 KiB (its upload limit stays the default)."""
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


def _big_model_body() -> bytes:
    return json.dumps({"name": "churn", "purpose": "x" * (2 * JSON_LIMIT)}).encode()


def test_the_json_limit_is_32_mib_by_default() -> None:
    assert Settings.from_env({"STEWARD_HOME": "/tmp/x"}).max_json_bytes == 32 * 1024 * 1024


def test_an_oversized_json_body_with_a_length_is_413_naming_the_setting(
    small: httpx.Client,
) -> None:
    response = small.post(
        "/api/v1/models", content=_big_model_body(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    assert "STEWARD_MAX_JSON_BYTES" in response.json()["error"]["message"]
    assert small.get("/api/v1/models/churn").status_code == 404


def test_an_oversized_chunked_json_body_is_413_not_400(small: httpx.Client) -> None:
    body = _big_model_body()
    chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
    response = small.post(
        "/api/v1/models", content=chunks, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert "STEWARD_MAX_JSON_BYTES" in response.json()["error"]["message"]


def test_a_streamed_predict_body_is_refused_before_it_ends(small: httpx.Client) -> None:
    """The server answers 413 once the limit is passed, while the body is still coming:
    it never waits for (or buffers) the rest."""
    url = urlsplit(str(small.base_url))
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/v1/deployments/anything/predict HTTP/1.1\r\n"
            + f"Host: {url.hostname}:{url.port}\r\n".encode()
            + f"Authorization: {small.headers['authorization']}\r\n".encode()
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"[" + b"1," * 4095 + b"1"
        sent = 0
        while sent <= 2 * JSON_LIMIT:  # never the terminating chunk: the body never ends
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_uploads_keep_their_own_larger_limit(small: httpx.Client, tmp_path: Path) -> None:
    small.post("/api/v1/models", json={"name": "churn"})
    model = skops_file(tmp_path)
    padding = ("padding.bin", b"\0" * (2 * JSON_LIMIT), "application/octet-stream")
    spec = sklearn_spec(
        files=[{"role": "model", "name": "model.skops"}, {"role": "extra", "name": "padding.bin"}]
    )
    response = small.post(
        "/api/v1/models/churn/versions",
        data=version_form(spec),
        files=[upload(model), ("file", padding)],
    )
    assert response.status_code == 201, response.text


def test_json_sent_to_an_upload_route_gets_the_json_limit(small: httpx.Client) -> None:
    small.post("/api/v1/models", json={"name": "churn"})
    response = small.post(
        "/api/v1/models/churn/versions",
        content=_big_model_body(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text


def test_a_request_with_both_transfer_encoding_and_content_length_is_400(
    small: httpx.Client,
) -> None:
    url = urlsplit(str(small.base_url))
    body = b'{"name": "smuggled"}'
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/v1/models HTTP/1.1\r\n"
            + f"Host: {url.hostname}:{url.port}\r\n".encode()
            + f"Authorization: {small.headers['authorization']}\r\n".encode()
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            + f"Content-Length: {len(chunked)}\r\n\r\n".encode()
            + chunked
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert small.get("/api/v1/models/smuggled").status_code == 404
