"""Exactly one rollout worker runs each revision, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.helpers import skops_file

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version
from modelsteward.serving.deployments import claim_next, request_deploy


def test_a_pending_revision_is_claimed_once(any_steward: Steward, tmp_path: Path) -> None:
    create_model(any_steward, SYSTEM, ModelSpec(name="churn"))
    blob = any_steward.artifacts.put_file(skops_file(tmp_path))
    spec = VersionSpec.model_validate(
        {"flavor": "sklearn", "files": [{"role": "model", "name": "model.skops"}]}
    )
    register_version(any_steward, SYSTEM, "churn", spec, {"model.skops": blob})
    request_deploy(any_steward, SYSTEM, "churn", 1, "production")

    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda i: claim_next(any_steward, f"worker-{i}"), range(8)))
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1
    assert winners[0][2].revision == 1 and winners[0][2].status == "running"
