"""Grouping: alert events for the same rule and model within a channel's group wait
leave as one message.

A new notification joins the open batch of its channel and group (rule id and model):
one still waiting for its first attempt whose send time has not come. Otherwise it
opens a batch of its own, due ``group_wait_s`` from now. A batch's id is the message id
receivers see (``webhook-id``), kept across retries.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from modelsteward.alerting.channels.tables import Notification
from modelsteward.store.tables import as_utc


def group_key(payload: dict[str, Any]) -> str:
    return f"rule:{payload['rule_id']}:model:{payload['model']}"[:300]


def new_batch() -> str:
    return "msg_" + secrets.token_hex(12)


def batch_for(
    conn: Connection | Session, channel_id: int, key: str, wait_s: float, now: datetime
) -> tuple[str, datetime]:
    """The batch a new notification joins, and when that batch is due."""
    if wait_s > 0:
        row = conn.execute(
            select(Notification.batch, Notification.next_attempt_at)
            .where(
                Notification.channel_id == channel_id,
                Notification.group_key == key,
                Notification.status == "pending",
                Notification.attempts == 0,
                Notification.claimed_until.is_(None),
                Notification.next_attempt_at > now,
            )
            .order_by(Notification.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            return row.batch, as_utc(row.next_attempt_at)
    return new_batch(), now + timedelta(seconds=wait_s)
