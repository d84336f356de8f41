"""Run the app with uvicorn; ``steward server`` and the tests' live server use this."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from modelsteward.api.app import create_app
from modelsteward.context import Steward


def app_factory() -> FastAPI:
    """Import string target for multi-worker uvicorn (``--workers N``)."""
    return create_app()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(steward: Steward, port: int | None = None) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 for the duration of the block; yields its URL."""
    port = port or free_port()
    config = uvicorn.Config(
        create_app(steward), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
