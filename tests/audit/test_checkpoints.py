"""Deleting the last audit records is found: verify checks the head against a signed
checkpoint, or against a head hash kept outside the database."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete, update
from tests.cli.test_cli import steward_cli
from tests.helpers import admin_token_of

from modelsteward.audit import checkpoints
from modelsteward.audit.jobs import AUDIT_CHECKPOINT
from modelsteward.context import Steward
from modelsteward.jobs import JOBS
from modelsteward.store.tables import AuditCheckpoint, AuditEvent


@pytest.fixture
def env(steward: Steward, server: str) -> dict[str, str]:
    return {"STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}


def _changes(api: httpx.Client, *names: str) -> None:
    for name in names:
        assert api.post("/api/v1/models", json={"name": name}).status_code == 201


def _truncate(steward: Steward, keep: int) -> None:
    with steward.db.write() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > keep))


def test_verify_prints_the_record_count_and_the_head_hash(
    api: httpx.Client, env: dict[str, str]
) -> None:
    _changes(api, "churn", "fraud")
    report = api.get("/api/v1/audit/verify").json()
    assert report["ok"] and report["count"] == report["checked"] >= 2
    assert len(report["head_hash"]) == 64
    out = steward_cli("audit", "verify", env=env)
    assert out.returncode == 0, out.stderr
    assert f"{report['count']} records, head {report['head_hash']}" in out.stdout


def test_deleting_the_last_records_after_a_checkpoint_is_found(
    api: httpx.Client, steward: Steward, env: dict[str, str]
) -> None:
    _changes(api, "churn", "fraud", "credit")
    taken = steward_cli("audit", "checkpoint", env=env)
    assert taken.returncode == 0, taken.stderr
    head = api.get("/api/v1/audit/verify").json()
    assert head["ok"] and head["checkpoint"]["seq"] == head["count"]
    _truncate(steward, keep=head["count"] - 2)
    report = api.get("/api/v1/audit/verify").json()
    assert not report["ok"] and "records were deleted" in report["reason"]
    out = steward_cli("audit", "verify", env=env)
    assert out.returncode == 6 and "records were deleted" in out.stdout


def test_records_appended_after_the_checkpoint_keep_the_chain_intact(
    api: httpx.Client, steward: Steward
) -> None:
    _changes(api, "churn")
    checkpoints.take(steward)
    _changes(api, "fraud")
    assert api.get("/api/v1/audit/verify").json()["ok"]


def test_a_forged_checkpoint_is_refused(api: httpx.Client, steward: Steward) -> None:
    _changes(api, "churn")
    checkpoints.take(steward)
    with steward.db.write() as session:
        session.execute(update(AuditCheckpoint).values(seq=1, hash="0" * 64))
    report = api.get("/api/v1/audit/verify").json()
    assert not report["ok"] and "trusted signature" in report["reason"]


def test_expect_head_checks_against_a_value_kept_elsewhere(
    api: httpx.Client, steward: Steward, env: dict[str, str]
) -> None:
    _changes(api, "churn", "fraud")
    kept = api.get("/api/v1/audit/verify").json()["head_hash"]
    assert steward_cli("audit", "verify", "--expect-head", kept, env=env).returncode == 0
    _truncate(steward, keep=1)
    with steward.db.write() as session:  # whoever truncated removed the checkpoints too
        session.execute(delete(AuditCheckpoint))
    assert api.get("/api/v1/audit/verify").json()["ok"]  # only the kept head finds it
    out = steward_cli("audit", "verify", "--expect-head", kept, env=env)
    assert out.returncode == 6 and f"not the expected {kept}" in out.stdout


def test_the_periodic_job_keeps_a_checkpoint_when_the_head_moved(steward: Steward) -> None:
    """No server runs here, so no other scheduler takes checkpoints meanwhile."""
    from modelsteward.audit.verification import verify_trail
    from modelsteward.identity.users import SYSTEM
    from modelsteward.registry.models import create_model
    from modelsteward.registry.specs import ModelSpec

    assert JOBS.get("audit.checkpoint") is AUDIT_CHECKPOINT
    assert AUDIT_CHECKPOINT.interval_s(steward.settings) == 3600
    create_model(steward, SYSTEM, ModelSpec(name="churn"))
    assert AUDIT_CHECKPOINT.run(steward) == 1
    assert AUDIT_CHECKPOINT.run(steward) == 0  # nothing new to attest
    create_model(steward, SYSTEM, ModelSpec(name="fraud"))
    assert AUDIT_CHECKPOINT.run(steward) == 1
    assert verify_trail(steward).ok
    _truncate(steward, keep=1)
    assert "records were deleted" in verify_trail(steward).reason
