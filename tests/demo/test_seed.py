"""The demo serves nothing its life cycle does not admit, and its roles agree everywhere."""

from __future__ import annotations

import pytest

from modelsteward.context import Steward
from modelsteward.demo import seed
from modelsteward.registry.aliases import alias_follows
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
    for alias in ("champion", "challenger"):  # set by the routes, not by hand
        assert alias_follows(steward, "tumor-screening", alias) == "tumor-screening-production"
