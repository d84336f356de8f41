"""HTTP plumbing for the SDK: where the server is, which token to send, and errors.

The server's JSON errors become the same ``StewardError`` subclasses the services
raise, so SDK users catch ``NotFound`` or ``Conflict`` rather than status codes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from modelsteward import errors

DEFAULT_URL = "http://127.0.0.1:8080"


def default_url() -> str:
    return os.environ.get("STEWARD_URL", DEFAULT_URL).rstrip("/")


def default_token() -> str | None:
    """``STEWARD_TOKEN``, else the local admin token file of ``STEWARD_HOME``."""
    if token := os.environ.get("STEWARD_TOKEN"):
        return token.strip()
    path = Path(os.environ.get("STEWARD_HOME", ".steward")).expanduser() / "admin.token"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body: Any = response.json().get("error", {})
    except ValueError:
        body = {}
    message = body.get("message") or f"HTTP {response.status_code} from {response.request.url}"
    cls = errors.error_class(str(body.get("code", "")), response.status_code)
    raise cls(
        message, details={"request_id": body.get("request_id"), "status": response.status_code}
    )
