"""Tables of the training service: one pipeline per model, and its runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from modelsteward.store.tables import Base, BigId, utcnow


class Pipeline(Base):
    """How a model is retrained: its validated spec (``PipelineSpec``), where its code
    lies (``source``: an artifact's sha256 or a local path) and the trust decision that
    lets its code run."""

    __tablename__ = "training_pipelines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(128), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column()
    code_hash: Mapped[str] = mapped_column(String(64))
    trust: Mapped[dict[str, Any]] = mapped_column()
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    """When its schedule next falls due; claimed by compare-and-set, so once per cluster."""
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Run(Base):
    """One execution of a pipeline. ``status``: queued, running, succeeded or failed
    (with ``reason``). A running run holds a lease (``lease_until``) that its supervising
    process renews; a lease that runs out means that process died, and the run fails.
    ``dedup_key`` is unique: identical requests (model, cause, data snapshot) share a run.
    """

    __tablename__ = "training_runs"
    __table_args__ = (Index("ix_training_runs_status", "status"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    cause: Mapped[str] = mapped_column(String(512))
    requested_by: Mapped[str] = mapped_column(String(128))
    remediation_id: Mapped[int | None] = mapped_column(BigId, default=None)
    parent_version: Mapped[int | None] = mapped_column(Integer, default=None)
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    data_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    spec: Mapped[dict[str, Any]] = mapped_column()
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    log_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    candidate_version: Mapped[int | None] = mapped_column(Integer, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(128), default=None)
    lease_until: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
