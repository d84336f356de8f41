"""Which server the CLI talks to.

``STEWARD_URL`` names a server. Without it, the CLI uses a server answering on the
default address, or else runs the embedded one in-process for the command's duration,
on ``STEWARD_HOME`` — so ``steward models list`` works with no server running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx

from modelsteward.sdk.client import Client
from modelsteward.sdk.transport import DEFAULT_URL, default_token


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def client() -> Iterator[Client]:
    with ExitStack() as stack:
        url = os.environ.get("STEWARD_URL")
        if not url and not _answers(DEFAULT_URL):
            from modelsteward.api.server import serve_in_thread
            from modelsteward.context import Steward

            steward = Steward()
            stack.callback(steward.close)
            url = stack.enter_context(serve_in_thread(steward))
        token = default_token()
        yield stack.enter_context(Client(url or DEFAULT_URL, token))
