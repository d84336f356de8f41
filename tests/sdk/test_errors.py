"""The SDK raises the server's error as the same class of the one error tree (errors.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from modelsteward import Client, errors
from modelsteward.api.errors import install_error_handlers
from modelsteward.api.server import free_port
from modelsteward.context import Steward
from modelsteward.sdk.transport import raise_for_error


@pytest.fixture(scope="module")
def raising() -> Iterator[httpx.Client]:
    """A real server whose one route raises the class named by its code, answered by the
    API's own error handlers."""
    app = FastAPI()
    install_error_handlers(app)
    by_code = {cls.code: cls for cls in errors.TREE}

    @app.get("/raise/{code}")
    def _raise(code: str) -> None:
        raise by_code[code]("it went wrong")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the test server did not start"
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_tree_holds_every_class_of_errors_py_with_distinct_codes() -> None:
    defined = [
        v
        for v in vars(errors).values()
        if isinstance(v, type) and issubclass(v, errors.StewardError)
    ]
    assert list(errors.TREE) == defined and len(defined) >= 11
    assert len({cls.code for cls in defined}) == len(defined)


@pytest.mark.parametrize("cls", errors.TREE, ids=lambda cls: cls.code)
def test_every_error_code_round_trips_to_the_same_class(
    raising: httpx.Client, cls: type[errors.StewardError]
) -> None:
    response = raising.get(f"/raise/{cls.code}")
    assert response.status_code == cls.status
    with pytest.raises(errors.StewardError) as caught:
        raise_for_error(response)
    assert type(caught.value) is cls
    assert caught.value.message == "it went wrong"
    assert caught.value.details["status"] == cls.status


def test_a_code_from_outside_errors_py_falls_back_to_the_class_of_its_status() -> None:
    request = httpx.Request("GET", "http://steward/x")
    loading = httpx.Response(
        503, json={"error": {"code": "model_loading", "message": "wait"}}, request=request
    )
    with pytest.raises(errors.Unavailable):
        raise_for_error(loading)
    failed = httpx.Response(500, json={"error": {"code": "model_failed"}}, request=request)
    with pytest.raises(errors.StewardError) as caught:
        raise_for_error(failed)
    assert type(caught.value) is errors.StewardError


def test_the_client_raises_not_found_and_unauthorized_from_a_real_server(
    steward: Steward, server: str
) -> None:
    with Client(server, "not-a-token") as anonymous, pytest.raises(errors.Unauthorized):
        anonymous.list_models()
    token = steward.settings.admin_token_path.read_text().strip()
    with Client(server, token) as client, pytest.raises(errors.NotFound):
        client.get_model("ghost")
