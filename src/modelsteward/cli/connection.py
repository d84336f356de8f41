"""Which server the CLI talks to.

``STEWARD_URL`` names a server. Without it, the CLI uses a server answering on the
default address, or else runs the embedded one in-process for the command's duration,
on ``STEWARD_HOME`` — so ``steward models list`` works with no server running.

With ``STEWARD_HOME`` set (and no ``STEWARD_TOKEN``), the default server is used only
if it serves that home (the ``home_id`` its health reports): the home's admin token is
never sent to a server of another home, which would refuse it as "invalid or revoked".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx

from modelsteward.cli.output import note
from modelsteward.config import home_id
from modelsteward.sdk.client import Client
from modelsteward.sdk.transport import DEFAULT_URL, home_folder


def _health(url: str) -> dict[str, Any] | None:
    try:
        response = httpx.get(f"{url}/api/v1/health", timeout=0.5)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else {}


def _serves_another_home(health: dict[str, Any]) -> bool:
    """Only a home named explicitly (and no explicit token) is held to the check."""
    if not os.environ.get("STEWARD_HOME") or os.environ.get("STEWARD_TOKEN"):
        return False
    theirs = health.get("home_id")
    return theirs is not None and theirs != home_id(home_folder())


@contextmanager
def client() -> Iterator[Client]:
    with ExitStack() as stack:
        url = os.environ.get("STEWARD_URL")
        if not url:
            health = _health(DEFAULT_URL)
            if health is not None and _serves_another_home(health):
                note(
                    f"the server on {DEFAULT_URL} serves another home than STEWARD_HOME="
                    f"{home_folder()}; running on that home in-process instead "
                    f"(set STEWARD_URL={DEFAULT_URL} and STEWARD_TOKEN to use that server)"
                )
                health = None
            if health is None:
                from modelsteward.api.server import serve_in_thread
                from modelsteward.context import Steward

                steward = Steward()
                stack.callback(steward.close)
                url = stack.enter_context(serve_in_thread(steward))
        yield stack.enter_context(Client(url or DEFAULT_URL))
