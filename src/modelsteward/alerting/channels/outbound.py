"""Sending one HTTP request to a checked address, and what its answer means for retries.

The request goes to the address the SSRF guard checked, with the original host in the
``Host`` header and as the TLS server name (so certificates are verified against it).
Redirects are never followed: a 3xx is a refusal, since its target was never checked.
No proxy from the environment is used, for the same reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from modelsteward.alerting.channels.ssrf import Refused, check_url

MAX_RETRY_AFTER_S = 3600.0
ANSWER_BYTES = 2048


@dataclass(frozen=True)
class Sending:
    """How a channel sends: the networks it may reach, and how long it waits."""

    networks: Sequence[str]
    timeout_s: float


@dataclass(frozen=True)
class Outcome:
    """One attempt's result. ``permanent`` failures are not retried."""

    ok: bool
    status_code: int | None = None
    error: str = ""
    retry_after_s: float | None = None
    permanent: bool = False
    latency_ms: float = 0.0


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def judge(response: httpx.Response, answer: bytes) -> Outcome:
    code = response.status_code
    text = answer.decode("utf-8", "replace")[:300]
    if 200 <= code < 300:
        return Outcome(True, code)
    if 300 <= code < 400:
        where = response.headers.get("location", "")[:200]
        return Outcome(False, code, f"redirect to {where!r} not followed", permanent=True)
    if code == 429:
        wait = retry_after(response.headers.get("retry-after"))
        return Outcome(False, code, f"rate limited (429) {text}".strip(), retry_after_s=wait)
    permanent = 400 <= code < 500 and code not in (408, 409, 425)
    return Outcome(False, code, f"HTTP {code} {text}".strip(), permanent=permanent)


def post(url: str, body: bytes, headers: Mapping[str, str], sending: Sending) -> Outcome:
    """POST ``body`` to ``url`` through the guard; never raises for the receiver's faults."""
    started = time.perf_counter()
    try:
        outcome = _post(url, body, headers, sending)
    except Refused as exc:
        outcome = Outcome(False, None, str(exc), permanent=True)
    except httpx.TimeoutException:
        outcome = Outcome(False, None, f"timed out after {sending.timeout_s:g} s")
    except httpx.HTTPError as exc:
        outcome = Outcome(False, None, f"cannot reach the receiver: {type(exc).__name__}: {exc}")
    elapsed = (time.perf_counter() - started) * 1000
    return Outcome(**{**outcome.__dict__, "latency_ms": elapsed})


def _post(url: str, body: bytes, headers: Mapping[str, str], sending: Sending) -> Outcome:
    host, port, addresses = check_url(url, sending.networks)
    target = httpx.URL(url)
    pinned = target.copy_with(host=str(addresses[0]))
    default_port = 443 if target.scheme == "https" else 80
    authority = host if port == default_port else f"{host}:{port}"
    if ":" in host:
        authority = f"[{host}]" if port == default_port else f"[{host}]:{port}"
    send_headers = {**headers, "Host": authority}
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    client = _client()
    request = client.build_request(
        "POST",
        pinned,
        content=body,
        headers=send_headers,
        extensions=extensions,
        timeout=sending.timeout_s,
    )
    response = client.send(request, stream=True)
    try:
        answer = b""
        for chunk in response.iter_bytes():
            answer += chunk
            if len(answer) >= ANSWER_BYTES:
                break
    finally:
        response.close()
    return judge(response, answer)


_shared: httpx.Client | None = None
_lock = threading.Lock()


def _client() -> httpx.Client:
    """One client per process: building one (its TLS context) costs tens of milliseconds,
    and its pool keeps connections to the checked addresses open between messages."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = httpx.Client(follow_redirects=False, trust_env=False)
        return _shared
