"""Silences: label matchers that mute new alerts for a while, as in Alertmanager.

A silenced alert is still opened, shown and resolved (nothing is hidden from the
record); its events carry ``suppressed_by: silence N``, so channels log the
notification as suppressed instead of sending it. A silence must end in the future and
at most ``MAX_DAYS`` ahead: a forgotten silence must not mute a model for good.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.alerting.channels.routing import Matcher
from modelsteward.alerting.tables import Silence
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.names import check_label
from modelsteward.store.tables import as_utc

if TYPE_CHECKING:
    from modelsteward.context import Steward

MAX_DAYS = 90
MAX_MATCHERS = 20


def view(silence: Silence, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    active = as_utc(silence.starts_at) <= now < as_utc(silence.ends_at)
    return {
        "id": silence.id,
        "matchers": silence.matchers,
        "comment": silence.comment,
        "starts_at": as_utc(silence.starts_at).isoformat(),
        "ends_at": as_utc(silence.ends_at).isoformat(),
        "active": active and silence.expired_by is None,
        "created_by": silence.created_by,
        "expired_by": silence.expired_by,
    }


def _when(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput(f"{field}: not an ISO 8601 time: {str(value)[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def create_silence(steward: Steward, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    """``matchers`` (label=value ...), ``comment`` and either ``ends_at`` or ``hours``."""
    unknown = set(data) - {"matchers", "comment", "starts_at", "ends_at", "hours"}
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]}: unknown field of a silence")
    matchers = data.get("matchers")
    if not isinstance(matchers, list) or not matchers or len(matchers) > MAX_MATCHERS:
        raise InvalidInput(f"matchers: give 1-{MAX_MATCHERS} label matchers, e.g. model=credit")
    for text in matchers:
        if not isinstance(text, str):
            raise InvalidInput("matchers: each matcher is a string such as team=risk")
        try:
            Matcher.parse(text)
        except ValueError as exc:
            raise InvalidInput(f"matchers: {exc}") from None
    comment = str(data.get("comment") or "")
    if comment:
        check_label(comment, what="comment", max_length=2000)
    now = datetime.now(UTC)
    starts = _when(data["starts_at"], "starts_at") if data.get("starts_at") else now
    if data.get("ends_at") is not None:
        ends = _when(data["ends_at"], "ends_at")
    elif isinstance(data.get("hours"), int | float) and not isinstance(data["hours"], bool):
        ends = starts + timedelta(hours=float(data["hours"]))
    else:
        raise InvalidInput("ends_at: give ends_at (ISO 8601) or hours")
    if ends <= now:
        raise InvalidInput("ends_at: the silence would already be over; give a future time")
    if ends <= starts:
        raise InvalidInput("ends_at: must come after starts_at")
    if ends - now > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"ends_at: at most {MAX_DAYS} days ahead")
    with steward.change(actor) as change:
        silence = Silence(
            matchers=list(matchers),
            comment=comment,
            starts_at=starts,
            ends_at=ends,
            created_by=actor,
            created_at=now,
        )
        change.session.add(silence)
        change.session.flush()
        shown = view(silence, now)
        change.record("silence.created", "silence", silence.id, after=shown)
        return shown


def expire_silence(steward: Steward, actor: str, silence_id: int) -> dict[str, Any]:
    with steward.change(actor) as change:
        silence = change.session.get(Silence, silence_id)
        if silence is None:
            raise NotFound(f"no silence {silence_id}")
        now = datetime.now(UTC)
        if silence.expired_by is not None or as_utc(silence.ends_at) <= now:
            raise Conflict(f"silence {silence_id} has already ended")
        silence.expired_by, silence.ends_at = actor, now
        change.session.flush()
        shown = view(silence, now)
        change.record("silence.expired", "silence", silence.id, after=shown)
        return shown


def list_silences(steward: Steward, *, include_ended: bool = False) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    query = select(Silence).order_by(Silence.id.desc())
    if not include_ended:
        query = query.where(Silence.ends_at > now, Silence.expired_by.is_(None))
    with steward.db.read() as session:
        return [view(s, now) for s in session.scalars(query.limit(1000))]


def silencing(session: Session, labels: dict[str, str], now: datetime) -> int | None:
    """The id of an active silence whose matchers all hold for ``labels``, if any."""
    active = session.scalars(
        select(Silence)
        .where(Silence.starts_at <= now, Silence.ends_at > now, Silence.expired_by.is_(None))
        .order_by(Silence.id)
    )
    for silence in active:
        if all(Matcher.parse(m).matches(labels) for m in silence.matchers):
            return silence.id
    return None
