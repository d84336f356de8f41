"""The demo serves nothing its life cycle does not admit, and its roles agree everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsteward.context import Steward
from modelsteward.demo import seed
from modelsteward.lifecycle.reading import version_lifecycle
from modelsteward.registry.aliases import alias_history
from modelsteward.registry.models import get_model
from modelsteward.serving.deployments import list_deployments


def test_the_demo_serves_only_admitted_versions_and_aliases_match_routes(
    steward: Steward, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = {k: seed.EXAMPLES[k] for k in ("tumor-screening", "iris-species")}
    monkeypatch.setattr(seed, "EXAMPLES", examples)
    said: list[str] = []
    seed.seed(steward, progress=said.append)
    assert (
        "  tumor-screening v2 approved; deployed as a canary: v1 champion 80%, v2 challenger 20% "
        "(registry: champion -> v1, challenger -> v2)"
    ) in said
    views = {d.name: d for d in list_deployments(steward, "production")}
    assert set(views) == {"tumor-screening-production", "iris-species-production"}
    for view in views.values():
        assert view.unadmitted == [], view.unadmitted
    tumor = views["tumor-screening-production"]
    routes = {r["role"]: (r["version"], r["weight"]) for r in tumor.routes}
    assert routes == {"champion": (1, 80), "challenger": (2, 20)}
    assert get_model(steward, "tumor-screening").aliases == {"champion": 1, "challenger": 2}
    moves = [
        (c.alias, c.to_version, c.changed_by) for c in alias_history(steward, "tumor-screening")
    ]
    assert moves == [("champion", 1, "system:rollout"), ("challenger", 2, "system:rollout")]
    for version in (1, 2):  # no timeline claims a move the routes did not make
        reasons = [h.reason for h in version_lifecycle(steward, "tumor-screening", version).history]
        assert not [r for r in reasons if "moved champion" in r or "moved challenger" in r]


def test_steward_demo_prints_where_the_admin_token_and_the_passwords_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from modelsteward.cli.main import app

    monkeypatch.setattr(seed, "EXAMPLES", {})  # the people and the token, no models
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    for key in ("STEWARD_URL", "STEWARD_TOKEN", "STEWARD_DB_URL"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(app, ["demo", "--exit"])
    assert result.exit_code == 0, result.output
    home = (tmp_path / "home").resolve()
    assert f"admin token: {home / 'admin.token'}" in result.output
    assert f"demo people and their passwords: {home / 'demo-users.txt'}" in result.output
    assert (home / "admin.token").exists() and (home / "demo-users.txt").exists()
