"""The instance signing key, signatures, and the audited list of trusted keys."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from tests.helpers import settings_for

from modelsteward.audit import signing
from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.identity.users import SYSTEM
from modelsteward.store.tables import AuditEvent


def other_key_text() -> str:
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return "ed25519:" + base64.b64encode(raw).decode()


def test_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home")
    settings.home.mkdir(parents=True)
    assert not settings.signing_key_path.exists()
    first = signing.public_key_text(settings)
    assert stat.S_IMODE(settings.signing_key_path.stat().st_mode) == 0o600
    assert signing.public_key_text(settings) == first
    assert first.startswith("ed25519:")
    assert [p.name for p in settings.home.iterdir()] == ["signing.key"]


def test_a_raw_32_byte_key_file_is_accepted(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home")
    settings.home.mkdir(parents=True)
    key = Ed25519PrivateKey.generate()
    settings.signing_key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    )
    assert signing.verify(signing.public_key_text(settings), b"x", key.sign(b"x"))


def test_sign_and_verify(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home")
    settings.home.mkdir(parents=True)
    signature = signing.sign(settings, b"manifest bytes")
    public = signing.public_key_text(settings)
    assert signing.verify(public, b"manifest bytes", signature)
    assert not signing.verify(public, b"manifest bytez", signature)
    assert not signing.verify(
        public, b"manifest bytes", signature[:-1] + bytes([signature[-1] ^ 1])
    )


def test_a_signature_does_not_verify_under_another_key(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home")
    settings.home.mkdir(parents=True)
    signature = signing.sign(settings, b"data")
    assert not signing.verify(other_key_text(), b"data", signature)
    assert not signing.verify("ed25519:not-base64!", b"data", signature)
    assert not signing.verify("rsa:AAAA", b"data", signature)


@pytest.mark.parametrize("text", ["", "ed25519:", "ed25519:AAAA", "ssh-ed25519 AAAA", "x" * 500])
def test_malformed_public_keys_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        signing.parse_public_key(text)


def test_trusting_listing_and_untrusting_keys_is_audited(steward: Steward) -> None:
    key = other_key_text()
    view = signing.trust_key(steward, SYSTEM, "dev", key)
    assert (view.name, view.public_key, view.added_by) == ("dev", key, "system")
    assert [k.name for k in signing.list_trusted_keys(steward)] == ["dev"]
    assert signing.trusted_key_name(steward, key) == "dev"
    assert signing.trusted_key_name(steward, signing.public_key_text(steward.settings)) == (
        signing.INSTANCE_KEY_NAME
    )
    signing.untrust_key(steward, SYSTEM, "dev")
    assert signing.list_trusted_keys(steward) == []
    assert signing.trusted_key_name(steward, key) is None
    with steward.db.read() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "key")
                .order_by(AuditEvent.seq)
            )
        )
    assert actions == ["key.trusted", "key.untrusted"]


def test_trusting_twice_or_the_own_key_conflicts(steward: Steward) -> None:
    key = other_key_text()
    signing.trust_key(steward, SYSTEM, "dev", key)
    with pytest.raises(Conflict, match="already trusted"):
        signing.trust_key(steward, SYSTEM, "dev-again", key)
    with pytest.raises(Conflict, match="already exists"):
        signing.trust_key(steward, SYSTEM, "dev", other_key_text())
    with pytest.raises(Conflict, match="own key"):
        signing.trust_key(steward, SYSTEM, "me", signing.public_key_text(steward.settings))
    with pytest.raises(InvalidInput):
        signing.trust_key(steward, SYSTEM, "../bad", other_key_text())
    with pytest.raises(NotFound):
        signing.untrust_key(steward, SYSTEM, "nobody")
