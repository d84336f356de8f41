"""Users and API tokens.

Tokens are random, shown once, and stored only as their SHA-256. On first start an
admin user and token are created and the token written to ``$STEWARD_HOME/admin.token``
(mode 0600), so the embedded default needs no set-up and is still never open.

A token that was just accepted is remembered for ``TOKEN_CACHE_SECONDS`` so that a
burst of requests does not look it up once each (see ``RecentTokens``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound, Unauthorized
from modelsteward.identity.roles import Permission, Role, permissions_of
from modelsteward.names import check_label, check_name
from modelsteward.store.tables import Token, User, as_utc

TOKEN_PREFIX = "stw_"
BOOTSTRAP_ADMIN = "admin"
TOKEN_CACHE_SECONDS = 5.0
_PBKDF2_ROUNDS = 200_000


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from a token or a login session."""

    name: str
    role: str

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.role)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


SYSTEM = Principal("system", Role.ADMIN.value)


class RecentTokens:
    """Tokens accepted in the last few seconds, per database: token hash -> principal.

    Only successful look-ups are kept, for ``ttl`` seconds, at most ``size`` of them.
    ``revoke_tokens`` and ``revoke_session`` forget every entry once they commit, so
    a revocation takes effect at once in this process. Another process (a second
    server worker, the CLI) that accepted the token just before may go on accepting
    it for up to ``ttl`` seconds; so may this one after the users or tokens tables
    are edited by hand. A look-up that raced with a revocation is never kept: the
    generation it started under is checked when it is stored.
    """

    def __init__(self, ttl: float = TOKEN_CACHE_SECONDS, size: int = 4096) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[tuple[str, str], tuple[float, Principal]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, db_url: str, token_hash: str) -> Principal | None:
        entry = self._entries.get((db_url, token_hash))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, db_url: str, token_hash: str, principal: Principal, generation: int) -> None:
        """Keep a principal found by a look-up that began under ``generation``."""
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= self.size:
                now = time.monotonic()
                self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
                if len(self._entries) >= self.size:
                    self._entries.clear()
            self._entries[(db_url, token_hash)] = (time.monotonic() + self.ttl, principal)

    def forget_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


recent_tokens = RecentTokens()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), _PBKDF2_ROUNDS)
    return f"pbkdf2${_PBKDF2_ROUNDS}${salt}${digest.hex()}"


def password_matches(password: str, stored: str | None) -> bool:
    if not stored or stored.count("$") != 3:
        return False
    _, rounds, salt, expected = stored.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(rounds))
    return hmac.compare_digest(digest.hex(), expected)


def _check_role(role: str) -> str:
    try:
        return Role(role).value
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {role[:40]!r}; choose one of: {roles}") from None


def create_user(
    steward: Steward, actor: Principal, name: str, role: str, password: str | None = None
) -> dict[str, str]:
    check_name(name, what="user name")
    role = _check_role(role)
    try:
        with steward.change(actor.name) as change:
            user = User(
                name=name, role=role, password_hash=hash_password(password) if password else None
            )
            change.session.add(user)
            change.session.flush()
            change.record("user.created", "user", name, after={"name": name, "role": role})
    except IntegrityError:
        raise Conflict(f"user {name!r} already exists") from None
    return {"name": name, "role": role}


def user_reference(session: Session, name: str | None, *, field: str) -> str | None:
    """``name`` when it is an enabled user (None passes: no one); else a 422 naming ``field``.

    For facts that name a person whom rules rely on, such as a model's owner."""
    if name is None:
        return None
    disabled = session.scalar(select(User.disabled).where(User.name == name))
    if disabled is None or disabled:
        problem = f"no user named {name!r}" if disabled is None else f"user {name!r} is disabled"
        raise InvalidInput(
            f"{field}: {problem}; it must name an existing, enabled user",
            details={"field": field, "errors": [{"loc": ["body", field], "msg": problem}]},
        )
    return name


def issue_token(
    steward: Steward,
    actor: Principal,
    user_name: str,
    token_name: str,
    *,
    expires_in_s: float | None = None,
) -> str:
    """Create a token for a user; the plain token is returned once and never stored.

    With ``expires_in_s`` the token is refused from then on, saying that it expired."""
    check_label(token_name, what="token name")
    token = new_token()
    expires_at = (
        datetime.now(UTC) + timedelta(seconds=expires_in_s) if expires_in_s is not None else None
    )
    with steward.change(actor.name) as change:
        user = change.session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise NotFound(f"user {user_name!r} not found")
        change.session.add(
            Token(
                user_id=user.id,
                name=token_name[:128],
                token_hash=hash_token(token),
                expires_at=expires_at,
            )
        )
        after = {"token_name": token_name[:128]}
        if expires_at is not None:
            after["expires_at"] = expires_at.isoformat()
        change.record("token.issued", "user", user_name, after=after)
    return token


def revoke_tokens(steward: Steward, actor: Principal, user_name: str) -> int:
    with steward.change(actor.name) as change:
        user = change.session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise NotFound(f"user {user_name!r} not found")
        tokens = change.session.scalars(
            select(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None))
        ).all()
        for token in tokens:
            token.revoked_at = datetime.now(UTC)
        change.record("token.revoked", "user", user_name, after={"revoked": len(tokens)})
    recent_tokens.forget_all()
    return len(tokens)


def revoke_session(steward: Steward, token: str) -> bool:
    """Revoke the one token a web session signed in with; False when it was not valid."""
    with steward.change(SYSTEM.name) as change:
        row = change.session.execute(
            select(Token, User.name)
            .join(User, User.id == Token.user_id)
            .where(Token.token_hash == hash_token(token), Token.revoked_at.is_(None))
        ).first()
        if row is None or row[0].name != "web-session":
            return False
        row[0].revoked_at = datetime.now(UTC)
        change.record("token.revoked", "user", row[1], after={"token_name": "web-session"})
    recent_tokens.forget_all()
    return True


def list_users(steward: Steward) -> list[dict[str, str]]:
    with steward.db.read() as session:
        return [
            {"name": u.name, "role": u.role, "disabled": str(u.disabled).lower()}
            for u in session.scalars(select(User).order_by(User.name))
        ]


_TOKEN_OWNER = (
    select(User.name, User.role, User.disabled, Token.revoked_at, Token.expires_at)
    .join(Token, Token.user_id == User.id)
    .where(Token.token_hash == bindparam("token_hash"))
)


def cached_principal(steward: Steward, token: str | None) -> Principal | None:
    """The caller a token was accepted as in the last few seconds; None if not known.

    Never touches the database, so it may run on an event loop.
    """
    if not token:
        return None
    return recent_tokens.get(steward.db.url, hash_token(token))


def authenticate_token(steward: Steward, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("missing credentials: send 'Authorization: Bearer <token>'")
    token_hash = hash_token(token)
    known = recent_tokens.get(steward.db.url, token_hash)
    if known is not None:
        return known
    generation = recent_tokens.generation
    with steward.db.query(snapshot=False) as conn:
        row = conn.execute(_TOKEN_OWNER, {"token_hash": token_hash}).first()
    if row is None or row.revoked_at is not None or row.disabled:
        raise Unauthorized("invalid or revoked token")
    if row.expires_at is not None and as_utc(row.expires_at) <= datetime.now(UTC):
        raise Unauthorized(
            f"token expired at {as_utc(row.expires_at).isoformat(timespec='seconds')}; "
            "ask an administrator for a new one"
        )
    principal = Principal(row.name, row.role)
    expiring = row.expires_at is not None and as_utc(row.expires_at) - datetime.now(
        UTC
    ) < timedelta(seconds=TOKEN_CACHE_SECONDS)
    if not expiring:  # a cached token is not re-read: it must not outlive its expiry
        recent_tokens.put(steward.db.url, token_hash, principal, generation)
    return principal


def authenticate_password(steward: Steward, name: str, password: str) -> Principal:
    with steward.db.read() as session:
        user = session.scalar(select(User).where(User.name == name))
    if user is None or user.disabled or not password_matches(password, user.password_hash):
        raise Unauthorized("unknown user or wrong password")
    return Principal(user.name, user.role)


def ensure_bootstrap_admin(steward: Steward) -> str | None:
    """On an empty user table, create ``admin`` and write its token file (mode 0600).

    Returns the token when one was created. Safe when many processes start at once:
    only the process whose insert wins writes the file.
    """
    with steward.db.read() as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            return None
    token = new_token()
    try:
        with steward.change(SYSTEM.name) as change:
            if change.session.scalar(select(User.id).limit(1)) is not None:
                return None
            admin = User(name=BOOTSTRAP_ADMIN, role=Role.ADMIN.value)
            change.session.add(admin)
            change.session.flush()
            change.session.add(
                Token(user_id=admin.id, name="bootstrap", token_hash=hash_token(token))
            )
            change.record(
                "user.created",
                "user",
                BOOTSTRAP_ADMIN,
                after={"name": BOOTSTRAP_ADMIN, "role": "admin"},
            )
    except IntegrityError:
        return None
    write_secret_file(steward.settings.admin_token_path, token)
    return token


def write_secret_file(path: os.PathLike[str] | str, secret: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)
