"""Which server the CLI asks, with which token, and what a refusal tells the user to set.

Real servers on 127.0.0.1: the test's own instance, and a second one serving another
home. The default address is pointed at one of them (no test may take port 8080).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.test_cli import steward_cli
from tests.helpers import settings_for
from tests.web.conftest import ADMIN

from modelsteward.api.server import serve_in_thread
from modelsteward.cli import connection
from modelsteward.context import Steward
from modelsteward.identity.users import ensure_bootstrap_admin
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("STEWARD_URL", "STEWARD_TOKEN", "STEWARD_HOME"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def other_home(tmp_path: Path) -> Iterator[Steward]:
    """A second instance, with a home of its own and one model in it."""
    instance = Steward(settings_for(tmp_path / "other-home"))
    ensure_bootstrap_admin(instance)
    create_model(instance, ADMIN, ModelSpec(name="theirs"))
    yield instance
    instance.close()


def test_the_health_names_the_home_it_serves(
    steward: Steward, other_home: Steward, server: str
) -> None:
    import httpx

    health = httpx.get(f"{server}/api/v1/health").json()
    assert health["home_id"] == steward.settings.home_id
    assert steward.settings.home_id != other_home.settings.home_id
    assert str(steward.settings.home) not in httpx.get(f"{server}/api/v1/health").text


def test_missing_credentials_name_the_server_the_token_file_and_what_to_set(
    server: str, tmp_path: Path, no_credentials: None
) -> None:
    elsewhere = tmp_path / "not-a-checkout"
    elsewhere.mkdir()
    out = steward_cli("models", "list", env={"STEWARD_URL": server}, cwd=elsewhere)
    assert out.returncode == 3, (out.stdout, out.stderr)
    message = out.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "missing credentials" in message and f"asked {server}" in message
    assert str(elsewhere / ".steward" / "admin.token") in message
    assert "STEWARD_TOKEN" in message and "STEWARD_HOME" in message


def test_a_token_the_server_refuses_says_where_it_came_from(
    server: str, no_credentials: None
) -> None:
    out = steward_cli("models", "list", env={"STEWARD_URL": server, "STEWARD_TOKEN": "stw_wrong"})
    assert out.returncode == 3
    assert "invalid or revoked token" in out.stderr
    assert f"asked {server}" in out.stderr and "the token from STEWARD_TOKEN" in out.stderr


def test_the_sdk_says_the_same(server: str, tmp_path: Path, no_credentials: None) -> None:
    from modelsteward import Client, errors

    with Client(server) as client, pytest.raises(errors.Unauthorized) as refused:
        client.list_models()
    assert f"asked {server}" in refused.value.message
    assert "admin.token does not exist" in refused.value.message


def test_a_default_server_of_another_home_is_not_sent_this_homes_token(
    steward: Steward,
    other_home: Steward,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_credentials: None,
) -> None:
    with serve_in_thread(other_home) as theirs:
        monkeypatch.setattr(connection, "DEFAULT_URL", theirs)
        monkeypatch.setenv("STEWARD_HOME", str(steward.settings.home))
        with connection.client() as client:
            assert client.url != theirs
            assert client.list_models()["total"] == 0  # this home's inventory, not theirs
        note = capsys.readouterr().err
        assert f"the server on {theirs} serves another home" in note
        assert f"STEWARD_URL={theirs}" in note


def test_a_default_server_of_the_same_home_is_used(
    steward: Steward, server: str, monkeypatch: pytest.MonkeyPatch, no_credentials: None
) -> None:
    create_model(steward, ADMIN, ModelSpec(name="ours"))
    monkeypatch.setattr(connection, "DEFAULT_URL", server)
    monkeypatch.setenv("STEWARD_HOME", str(steward.settings.home))
    with connection.client() as client:
        assert client.url == server
        assert [m["name"] for m in client.list_models()["items"]] == ["ours"]
