"""What people do with channels: add, change, list, remove, try one out.

Every change is one audited ``Steward.change`` recording ``channel.created``,
``channel.updated`` or ``channel.removed`` (secrets left out of the record).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.alerting.channels.kinds import KINDS, ChannelKind
from modelsteward.alerting.channels.specs import (
    ChannelUpdate,
    checked_config,
    masked,
    merge_secrets,
    parse_spec,
    problems,
)
from modelsteward.alerting.channels.tables import Channel
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.store.tables import as_utc

if TYPE_CHECKING:
    from modelsteward.context import Steward


def _kind(name: str) -> ChannelKind | None:
    try:
        return KINDS.get(name)
    except InvalidInput:
        return None


def view(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "kind": channel.kind,
        "enabled": channel.enabled,
        "config": masked(_kind(channel.kind), channel.config),
        "routing": channel.routing,
        "group_wait_s": channel.group_wait_s,
        "timeout_s": channel.timeout_s,
        "max_attempts": channel.max_attempts,
        "template": channel.template,
        "created_by": channel.created_by,
        "created_at": as_utc(channel.created_at).isoformat(),
        "updated_at": as_utc(channel.updated_at).isoformat(),
    }


RECORDED = ("name", "kind", "enabled", "config", "routing", "group_wait_s")


def _record(channel: Channel) -> dict[str, Any]:
    """What the audit trail keeps of a channel: its view's settings, secrets masked."""
    shown = view(channel)
    return {key: shown[key] for key in RECORDED}


def find(session: Session, name: str) -> Channel:
    channel = session.scalar(select(Channel).where(Channel.name == name))
    if channel is None:
        raise NotFound(f"no channel named {name[:128]!r}")
    return channel


def create_channel(steward: Steward, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    """Add a channel; the answer shows a generated signing secret this once."""
    spec = parse_spec(data)
    kind = KINDS.get(spec.kind)
    config = checked_config(kind, spec.config, spec.group_wait_s, steward.settings.allow_networks)
    now = datetime.now(UTC)
    with steward.change(actor) as change:
        session = change.session
        if session.scalar(select(Channel.id).where(Channel.name == spec.name)) is not None:
            raise Conflict(f"a channel named {spec.name!r} exists")
        channel = Channel(
            name=spec.name,
            kind=spec.kind,
            config=config,
            routing=spec.routing.model_dump(),
            template=spec.template.model_dump(exclude_none=True),
            group_wait_s=spec.group_wait_s,
            timeout_s=spec.timeout_s,
            max_attempts=spec.max_attempts,
            enabled=spec.enabled,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        session.add(channel)
        session.flush()
        change.record("channel.created", "channel", channel.id, after=_record(channel))
        shown = view(channel)
    generated = {k: config[k] for k in kind.secrets if k in config and k not in spec.config}
    return {**shown, "generated_secrets": generated} if generated else shown


def update_channel(steward: Steward, actor: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        changes = ChannelUpdate.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"invalid channel change: {problems(exc)}") from None
    with steward.change(actor) as change:
        channel = find(change.session, name)
        kind = KINDS.get(channel.kind)
        before = _record(channel)
        wait = channel.group_wait_s if changes.group_wait_s is None else changes.group_wait_s
        if changes.config is not None or changes.group_wait_s is not None:
            new = channel.config if changes.config is None else changes.config
            merged = merge_secrets(kind, channel.config, new)
            channel.config = checked_config(kind, merged, wait, steward.settings.allow_networks)
        if changes.routing is not None:
            channel.routing = changes.routing.model_dump()
        if changes.template is not None:
            channel.template = changes.template.model_dump(exclude_none=True)
        for field in ("group_wait_s", "timeout_s", "max_attempts", "enabled"):
            value = getattr(changes, field)
            if value is not None:
                setattr(channel, field, value)
        channel.updated_at = datetime.now(UTC)
        change.session.flush()
        change.record(
            "channel.updated", "channel", channel.id, before=before, after=_record(channel)
        )
        return view(channel)


def remove_channel(steward: Steward, actor: str, name: str) -> None:
    """Remove a channel and its delivery log (the audit trail keeps every outcome)."""
    with steward.change(actor) as change:
        channel = find(change.session, name)
        before = _record(channel)
        ident, kind = channel.id, channel.kind
        change.session.delete(channel)
        change.session.flush()
        change.record(
            "channel.removed",
            "channel",
            ident,
            before=before,
            payload={"name": name, "kind": kind},
        )


def list_channels(steward: Steward) -> list[dict[str, Any]]:
    with steward.db.read() as session:
        return [view(c) for c in session.scalars(select(Channel).order_by(Channel.name))]


def get_channel(steward: Steward, name: str) -> dict[str, Any]:
    with steward.db.read() as session:
        return view(find(session, name))


def list_kinds() -> list[dict[str, Any]]:
    return [
        {"name": k.name, "description": k.description, "secrets": list(k.secrets)}
        for k in sorted(KINDS.available().values(), key=lambda k: k.name)
    ]
