"""A client that hangs up mid-body is logged as a disconnect, not as a server failure.

A real server on 127.0.0.1 and a raw socket that sends the headers and half the body,
then closes.
"""

from __future__ import annotations

import logging
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.helpers import admin_token_of

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec

BOUNDARY = "steward-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
FILE_PART = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="model.skops"\r\n'
    "Content-Type: application/octet-stream\r\n\r\n"
).encode() + b"\x00" * 300_000

HALF_BODIES = {
    "json": ("/api/v1/models", "application/json", b'{"name": "half'),
    "version": ("/api/v1/models/iris/versions", MULTIPART, FILE_PART),
    "bundle": ("/api/v1/bundles", "application/octet-stream", b"\x00" * 300_000),
    "report": ("/api/v1/reports", MULTIPART, FILE_PART.replace(b'"file"', b'"current"')),
    "v2": ("/v2/models/iris-staging/infer", "application/json", b'{"inputs": [{"na'),
    "form": ("/login", "application/x-www-form-urlencoded", b"method=token&token=stw_"),
}


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[Records]:
    """Everything the app and uvicorn log (uvicorn's loggers do not reach the root)."""
    handler = Records()
    loggers = [logging.getLogger(n) for n in ("modelsteward", "uvicorn.error", "uvicorn")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's temporary folder, to see what a request leaves behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _send_half(url: str, token: str, path: str, content_type: str, part: bytes) -> None:
    host = url.removeprefix("http://")
    address, port = host.rsplit(":", 1)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Origin: {url}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(part) * 2 + 100}\r\n\r\n"
    ).encode()
    with socket.create_connection((address, int(port))) as sock:
        sock.sendall(head + part)


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("kind", sorted(HALF_BODIES))
def test_a_client_hanging_up_mid_body_is_a_logged_disconnect_that_leaves_nothing(
    steward: Steward, records: Records, scratch: Path, kind: str
) -> None:
    create_model(steward, SYSTEM, ModelSpec(name="iris", owner="admin"))
    artifacts = Path(steward.settings.artifacts_url)
    path, content_type, part = HALF_BODIES[kind]
    with serve_in_thread(steward) as url:
        _send_half(url, admin_token_of(steward), path, content_type, part)

        def disconnect_logged() -> bool:
            return any("client disconnected" in r.getMessage() for r in records.records)

        _wait_for(disconnect_logged, f"the disconnect of {path} to be logged")
    logged = [r for r in records.records if "client disconnected" in r.getMessage()]
    assert logged[0].levelno == logging.INFO and path in logged[0].getMessage()
    failures = [r for r in records.records if r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage() for r in failures]
    assert not any(r.exc_info for r in records.records)
    assert _files_under(scratch) == []
    assert not artifacts.exists() or _files_under(artifacts) == []


def test_the_raw_client_helper_is_a_real_request(steward: Steward) -> None:
    """Sent whole, the same bytes reach the route (so a half body is what was tested)."""
    with serve_in_thread(steward) as url:
        host = url.removeprefix("http://")
        address, port = host.rsplit(":", 1)
        body = b'{"name": "whole"}'
        head = (
            f"POST /api/v1/models HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {admin_token_of(steward)}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        with socket.create_connection((address, int(port))) as sock:
            sock.sendall(head + body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
