"""HTTP plumbing for the SDK: where the server is, which token to send, and errors.

The server's JSON errors become the same ``StewardError`` subclasses the services
raise, so SDK users catch ``NotFound`` or ``Conflict`` rather than status codes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from modelsteward import errors

DEFAULT_URL = "http://127.0.0.1:8080"


def default_url() -> str:
    return os.environ.get("STEWARD_URL", DEFAULT_URL).rstrip("/")


@dataclass(frozen=True)
class Credentials:
    """A token and where it was looked for, so a refusal can say what to set."""

    token: str | None
    source: str

    def hint(self, url: str) -> str:
        """Appended to a 401: which server was asked, with which token, and what to set."""
        if self.token is None:
            found = f"no token was found ({self.source})"
        else:
            found = f"the token from {self.source} is not valid there"
        return (
            f"(asked {url}; {found}; set STEWARD_TOKEN to an API token of that server, "
            "e.g. from 'steward users token NAME', or STEWARD_HOME to the folder it serves, "
            "whose admin.token is used)"
        )


def home_folder() -> Path:
    return Path(os.environ.get("STEWARD_HOME", ".steward")).expanduser().resolve()


def credentials() -> Credentials:
    """``STEWARD_TOKEN``, else the local admin token file of ``STEWARD_HOME``."""
    if token := os.environ.get("STEWARD_TOKEN", "").strip():
        return Credentials(token, "STEWARD_TOKEN")
    path = home_folder() / "admin.token"
    try:
        token = path.read_text().strip()
    except OSError:
        return Credentials(None, f"STEWARD_TOKEN is unset and {path} does not exist")
    if not token:
        return Credentials(None, f"STEWARD_TOKEN is unset and {path} is empty")
    return Credentials(token, str(path))


def default_token() -> str | None:
    return credentials().token


def raise_for_error(response: httpx.Response, hint: str = "") -> None:
    """Raise the service error the server answered; ``hint`` is added to a 401's message."""
    if response.is_success:
        return
    try:
        body: Any = response.json().get("error", {})
    except ValueError:
        body = {}
    message = body.get("message") or f"HTTP {response.status_code} from {response.request.url}"
    cls = errors.error_class(str(body.get("code", "")), response.status_code)
    if hint and response.status_code == 401:
        message = f"{message} {hint}"
    raise cls(
        message, details={"request_id": body.get("request_id"), "status": response.status_code}
    )
