"""Tables of the life cycle service: definitions, rules, instances and their work.

An instance changes only by compare-and-set on ``revision``; timers are claimed by
compare-and-set on ``fired_at``; ``lifecycle_production`` holds one row per model in a
production state, so "at most one version in production" is a primary key, not a hope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from modelsteward.store.tables import Base, utcnow

VOTES = ("approve", "reject")
_VOTE_ONLY = text("decision IN ('approve', 'reject')")
_OPEN_ONLY = text("status = 'open'")
_PENDING_ONLY = text("fired_at IS NULL")


class LifecycleDefinition(Base):
    """One version of a named life cycle: the validated spec and the text it came from."""

    __tablename__ = "lifecycle_definitions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    spec_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("name", "version", name="uq_lifecycle_definition_version"),)


class LifecycleRule(Base):
    """Which life cycle a model follows: the first matching rule by priority wins.

    Empty criteria match everything, so a rule with none of them is the default.
    """

    __tablename__ = "lifecycle_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, unique=True)
    risk_tier: Mapped[str | None] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(128))
    tag_key: Mapped[str | None] = mapped_column(String(64))
    tag_value: Mapped[str | None] = mapped_column(String(256))
    definition: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LifecycleInstance(Base):
    """One model version travelling through one pinned definition version.

    ``revision`` grows with every change (compare-and-set); ``visit`` grows with every
    state entered, so tasks and timers know which stay in a state they belong to.
    """

    __tablename__ = "lifecycle_instances"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), unique=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    definition_id: Mapped[int] = mapped_column(ForeignKey("lifecycle_definitions.id"))
    state: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    visit: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        Index("ix_lifecycle_instances_model", "model_id"),
        Index("ix_lifecycle_instances_definition", "definition_id"),
    )


class LifecycleHistory(Base):
    """Every start, transition, blocked attempt, wait, rejection and timer of an instance."""

    __tablename__ = "lifecycle_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("lifecycle_instances.id"))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    transition: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    gates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    __table_args__ = (Index("ix_lifecycle_history_instance", "instance_id", "id"),)


class LifecycleTask(Base):
    """An approval request: ``needed`` approvals by ``role`` (or ``escalated_to``)."""

    __tablename__ = "lifecycle_tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("lifecycle_instances.id"))
    visit: Mapped[int] = mapped_column(Integer)
    transition: Mapped[str] = mapped_column(String(64))
    gate_index: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(32))
    needed: Mapped[int] = mapped_column(Integer)
    separation_of_duties: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    escalated_to: Mapped[str | None] = mapped_column(String(32))
    escalate_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_lifecycle_tasks_instance", "instance_id", "visit"),
        Index("ix_lifecycle_tasks_status_role", "status", "role"),
        Index(
            "uq_lifecycle_open_task",
            "instance_id",
            "transition",
            "gate_index",
            unique=True,
            sqlite_where=_OPEN_ONLY,
            postgresql_where=_OPEN_ONLY,
        ),
    )

    @property
    def deciding_role(self) -> str:
        return self.escalated_to or self.role


class LifecycleDecision(Base):
    """One approver's approve, reject or comment on a task; one vote per approver."""

    __tablename__ = "lifecycle_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("lifecycle_tasks.id"))
    actor: Mapped[str] = mapped_column(String(128))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        Index("ix_lifecycle_decisions_task", "task_id"),
        Index(
            "uq_lifecycle_vote",
            "task_id",
            "actor",
            unique=True,
            sqlite_where=_VOTE_ONLY,
            postgresql_where=_VOTE_ONLY,
        ),
    )


class LifecycleTimer(Base):
    """A transition or an escalation due at ``due_at``; claimed once by setting ``fired_at``."""

    __tablename__ = "lifecycle_timers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("lifecycle_instances.id"))
    visit: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("lifecycle_tasks.id"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(32), default="")
    __table_args__ = (
        Index("ix_lifecycle_timers_instance", "instance_id"),
        Index(
            "ix_lifecycle_timers_due",
            "due_at",
            sqlite_where=_PENDING_ONLY,
            postgresql_where=_PENDING_ONLY,
        ),
    )


class LifecycleProduction(Base):
    """The one version of a model in a production state (primary key: the model)."""

    __tablename__ = "lifecycle_production"
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("lifecycle_instances.id"), unique=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
