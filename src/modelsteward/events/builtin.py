"""Events of the foundation itself: users, tokens, trusted signing keys and redeliveries."""

from __future__ import annotations

from modelsteward.events.catalogue import EventType, Payload


class UserCreated(Payload):
    name: str
    role: str


class TokenIssued(Payload):
    token_name: str
    expires_at: str | None = None  # ISO 8601; None for a token that never expires


class TokenRevoked(Payload):
    revoked: int | None = None
    token_name: str | None = None


class KeyTrusted(Payload):
    name: str
    public_key: str


class KeyUntrusted(Payload):
    pass


class EventRetried(Payload):
    subscriber: str | None
    deliveries: int


EVENTS = [
    EventType("user.created", "A user was created with a role.", "user", UserCreated),
    EventType("token.issued", "An API token was issued to a user.", "user", TokenIssued),
    EventType(
        "token.revoked",
        "A user's API tokens (or a web session) were revoked.",
        "user",
        TokenRevoked,
    ),
    EventType("key.trusted", "A public key was trusted for signed bundles.", "key", KeyTrusted),
    EventType("key.untrusted", "A trusted public key was removed.", "key", KeyUntrusted),
    EventType(
        "event.retried",
        "Someone sent a dead-lettered event again to its failed subscribers.",
        "event",
        EventRetried,
    ),
]
