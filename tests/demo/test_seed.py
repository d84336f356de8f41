"""The demo serves nothing its life cycle does not admit, and its roles agree everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsteward.context import Steward
from modelsteward.demo import seed
from modelsteward.registry.models import get_model
from modelsteward.serving.deployments import list_deployments


def test_the_demo_serves_only_admitted_versions_and_aliases_match_routes(
    steward: Steward, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = {k: seed.EXAMPLES[k] for k in ("tumor-screening", "iris-species")}
    monkeypatch.setattr(seed, "EXAMPLES", examples)
    seed.seed(steward, progress=lambda _: None)
    views = {d.name: d for d in list_deployments(steward, "production")}
    assert set(views) == {"tumor-screening-production", "iris-species-production"}
    for view in views.values():
        assert view.unadmitted == [], view.unadmitted
    tumor = views["tumor-screening-production"]
    routes = {r["role"]: (r["version"], r["weight"]) for r in tumor.routes}
    assert routes == {"champion": (1, 80), "challenger": (2, 20)}
    assert get_model(steward, "tumor-screening").aliases == {"champion": 1, "challenger": 2}


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
