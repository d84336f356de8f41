"""Channel kinds: a registry of the ways a notification can leave the platform.

Each kind is one module (webhook, slack, teams, email, change_request, alertmanager)
exposing a ``ChannelKind``: its validated settings, which of them are secrets, how it
turns a rendered ``Message`` into what it sends, and how it sends it. Built-ins ship
through the ``modelsteward.channel_kinds`` entry point group, the door a third-party
kind uses too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from modelsteward.alerting.channels.outbound import Outcome, Sending
from modelsteward.alerting.channels.ssrf import check_url
from modelsteward.plugins import NamedRegistry


@dataclass(frozen=True)
class Message:
    """One outgoing message: a batch of alert events, rendered.

    ``id`` is the batch's id, the same on every attempt: receivers deduplicate by it.
    Each of ``alerts`` is an ``AlertChanged`` payload with ``event``, ``event_id`` and
    ``event_at`` added.
    """

    id: str
    channel: str
    subject: str
    body: str
    alerts: tuple[dict[str, Any], ...]
    sent_at: datetime

    @property
    def status(self) -> str:
        """``resolved`` when every alert in it is resolved, else ``firing``."""
        return "resolved" if all(a["state"] == "resolved" for a in self.alerts) else "firing"

    @property
    def first(self) -> dict[str, Any]:
        return self.alerts[0]


@dataclass(frozen=True)
class ChannelKind:
    name: str
    description: str
    config: type[BaseModel]
    send: Callable[[Any, Message, Sending], Outcome] = field(repr=False)
    preview: Callable[[Any, Message], dict[str, Any]] = field(repr=False)
    """What ``send`` would send: ``{"method", "url", "headers", "body"}`` or an e-mail."""
    check: Callable[[Any, Sequence[str]], None] = field(repr=False)
    """Refuses (``ssrf.Refused``) an endpoint the guard does not allow, at creation."""
    secrets: tuple[str, ...] = ()
    """Config fields never shown back (a Slack or Teams URL is itself a credential)."""
    groups: bool = True
    """False for kinds whose receiver wants one message per alert (a ticket each)."""
    default_body: str | None = None
    """The kind's own default body template (None: ``templates.DEFAULT_BODY``)."""
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = field(default=None, repr=False)
    """Fills settings the operator may leave out (a generated signing secret)."""


KINDS: NamedRegistry[ChannelKind] = NamedRegistry(
    "modelsteward.channel_kinds", "channel kind", ChannelKind
)


class KindConfig(BaseModel):
    """Base of every kind's settings: frozen, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class UrlConfig(KindConfig):
    """Settings of a kind that posts to one URL."""

    url: str

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if len(value) > 2000:
            raise ValueError("URL is longer than 2000 characters")
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("URL must start with http:// or https://")
        return value


def check_url_config(config: UrlConfig, networks: Sequence[str]) -> None:
    check_url(config.url, networks)
