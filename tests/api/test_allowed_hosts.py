"""Requests must name this server in their Host header (``STEWARD_ALLOWED_HOSTS``).

A page on another site that rebinds its own name to 127.0.0.1 (DNS rebinding) reaches
a local server with its own name in Host; the allow-list refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.helpers import settings_for

from modelsteward.api.server import serve_in_thread
from modelsteward.config import LOCAL_HOSTS, Settings, allowed_hosts, bind_hosts
from modelsteward.context import Steward


def _serving(tmp_path: Path, **env: str) -> Iterator[str]:
    steward = Steward(settings_for(tmp_path / "home", **env))
    try:
        with serve_in_thread(steward) as url:
            yield url
    finally:
        steward.close()


@pytest.fixture
def restricted(tmp_path: Path) -> Iterator[str]:
    yield from _serving(tmp_path, STEWARD_ALLOWED_HOSTS="models.example.org, *.corp.example")


def _health(url: str, host: str) -> httpx.Response:
    return httpx.get(url + "/api/v1/health", headers={"Host": host})


def test_by_default_local_names_are_served_and_any_other_host_gets_400(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
        assert _health(server, host).status_code == 200, host
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example"):
        refused = _health(server, host)
        assert refused.status_code == 400, host
        assert refused.text == "Invalid host header"
        assert refused.headers["x-content-type-options"] == "nosniff"


def test_configured_hosts_and_domain_patterns_are_the_only_ones_served(restricted: str) -> None:
    assert _health(restricted, "models.example.org").status_code == 200
    assert _health(restricted, "steward.corp.example:8080").status_code == 200
    assert _health(restricted, "127.0.0.1").status_code == 400
    assert _health(restricted, "models.example.org.evil.example").status_code == 400
    login = httpx.post(restricted + "/login", headers={"Host": "evil.example"})
    assert login.status_code == 400  # refused before any route, form or cookie


def test_a_star_serves_any_host(tmp_path: Path) -> None:
    for url in _serving(tmp_path, STEWARD_ALLOWED_HOSTS="*"):
        assert _health(url, "anything.example").status_code == 200


def test_the_setting_is_parsed_and_checked() -> None:
    assert Settings.from_env({}).allowed_hosts == LOCAL_HOSTS
    assert allowed_hosts(" ") == LOCAL_HOSTS
    assert allowed_hosts("A.example, ::1 ,") == ("a.example", "[::1]")
    for bad in ("a*.example", "*example.com", "x.*.example"):
        with pytest.raises(ValueError, match="STEWARD_ALLOWED_HOSTS"):
            allowed_hosts(bad)


def test_steward_server_adds_the_address_it_listens_on() -> None:
    assert bind_hosts("127.0.0.1") == LOCAL_HOSTS
    assert bind_hosts("10.1.2.3") == (*LOCAL_HOSTS, "10.1.2.3")
    everywhere = bind_hosts("0.0.0.0")
    assert everywhere[: len(LOCAL_HOSTS)] == LOCAL_HOSTS and "*" not in everywhere
