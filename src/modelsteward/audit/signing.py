"""This instance's Ed25519 signing key, and the public keys it trusts.

Bundles exported by one instance are signed with its key; another instance imports
them only when the signer is itself or a key an administrator trusted explicitly.
The key is created on first use at ``settings.signing_key_path`` (mode 0600, PEM;
raw 32 private bytes are accepted too). Public keys travel as ``ed25519:<base64>``.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from modelsteward.identity.users import Principal
from modelsteward.names import check_name
from modelsteward.store.tables import TrustedKey

KEY_PREFIX = "ed25519:"
INSTANCE_KEY_NAME = "this-instance"
_RAW_KEY_BYTES = 32


class TrustedKeyView(BaseModel):
    name: str
    public_key: str
    added_by: str
    added_at: datetime

    @classmethod
    def of(cls, row: TrustedKey) -> TrustedKeyView:
        added = row.added_at
        added = added.replace(tzinfo=UTC) if added.tzinfo is None else added.astimezone(UTC)
        return cls(name=row.name, public_key=row.public_key, added_by=row.added_by, added_at=added)


def _load_private_key(data: bytes, path: os.PathLike[str] | str) -> Ed25519PrivateKey:
    if len(data) == _RAW_KEY_BYTES:
        return Ed25519PrivateKey.from_private_bytes(data)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise IntegrityFailure(f"signing key {path} is neither PEM nor 32 raw bytes") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise IntegrityFailure(f"signing key {path} is not an Ed25519 key")
    return key


def instance_key(settings: Settings) -> Ed25519PrivateKey:
    """This instance's private key, created (mode 0600) the first time it is needed.

    Creation is atomic: the key is written to a private temporary file and hard-linked
    into place, so processes starting together agree on one key.
    """
    path = settings.signing_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd, tmp = tempfile.mkstemp(prefix=".signing-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            os.unlink(tmp)
    return _load_private_key(path.read_bytes(), path)


def _text_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def public_key_text(settings: Settings) -> str:
    return _text_of(instance_key(settings).public_key())


def parse_public_key(text: str) -> Ed25519PublicKey:
    """Parse ``ed25519:<base64 of 32 bytes>``; anything else is refused."""
    shown = repr(str(text)[:60])
    if not isinstance(text, str) or not text.startswith(KEY_PREFIX) or len(text) > 128:
        raise InvalidInput(f"not an Ed25519 public key {shown}: expected 'ed25519:<base64>'")
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"public key {shown} is not valid base64") from None
    if len(raw) != _RAW_KEY_BYTES:
        raise InvalidInput(f"public key {shown} is not 32 bytes long")
    return Ed25519PublicKey.from_public_bytes(raw)


def normalized_public_key(text: str) -> str:
    return _text_of(parse_public_key(text.strip()))


def sign(settings: Settings, data: bytes) -> bytes:
    return instance_key(settings).sign(data)


def verify(public_key: str, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature over ``data``."""
    try:
        parse_public_key(public_key).verify(signature, data)
    except (InvalidSignature, InvalidInput):
        return False
    return True


def trusted_key_name(steward: Steward, public_key: str) -> str | None:
    """The name under which ``public_key`` is trusted here, or None."""
    if public_key == public_key_text(steward.settings):
        return INSTANCE_KEY_NAME
    with steward.db.read() as session:
        return session.scalar(select(TrustedKey.name).where(TrustedKey.public_key == public_key))


def trust_key(steward: Steward, actor: Principal, name: str, public_key: str) -> TrustedKeyView:
    """Accept bundles signed by ``public_key`` from now on (audited)."""
    check_name(name, what="key name")
    key = normalized_public_key(public_key)
    if key == public_key_text(steward.settings):
        raise Conflict("that is this instance's own key, which is always trusted")
    try:
        with steward.change(actor.name) as change:
            if change.session.scalar(select(TrustedKey.id).where(TrustedKey.name == name)):
                raise Conflict(f"a trusted key named {name!r} already exists")
            existing = change.session.scalar(
                select(TrustedKey.name).where(TrustedKey.public_key == key)
            )
            if existing is not None:
                raise Conflict(f"that key is already trusted as {existing!r}")
            row = TrustedKey(name=name, public_key=key, added_by=actor.name)
            change.session.add(row)
            change.session.flush()
            change.record("key.trusted", "key", name, after={"name": name, "public_key": key})
    except IntegrityError:
        raise Conflict(f"key {name!r} is already trusted") from None
    return TrustedKeyView.of(row)


def list_trusted_keys(steward: Steward) -> list[TrustedKeyView]:
    """Keys trusted by an administrator (this instance's own key is implied)."""
    with steward.db.read() as session:
        rows = session.scalars(select(TrustedKey).order_by(TrustedKey.name)).all()
        return [TrustedKeyView.of(row) for row in rows]


def untrust_key(steward: Steward, actor: Principal, name: str) -> TrustedKeyView:
    """Stop accepting bundles signed by the key trusted as ``name`` (audited)."""
    with steward.change(actor.name) as change:
        row = change.session.scalar(select(TrustedKey).where(TrustedKey.name == name))
        if row is None:
            raise NotFound(f"no trusted key named {name[:128]!r}")
        view = TrustedKeyView.of(row)
        change.session.delete(row)
        change.record(
            "key.untrusted", "key", name, before={"name": name, "public_key": view.public_key}
        )
    return view
