"""lifecycle: definitions, assignment rules, instances, history, tasks, timers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:00:00.000000

``lifecycle_production`` has the model as its primary key: at most one version of a
model is in a production state, enforced by the database on both backends. Partial
unique indexes keep one open task per gate and one vote per approver and task.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OPEN_ONLY = sa.text("status = 'open'")
_VOTE_ONLY = sa.text("decision IN ('approve', 'reject')")
_PENDING_ONLY = sa.text("fired_at IS NULL")


def _at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "lifecycle_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_lifecycle_definition_version"),
    )
    op.create_table(
        "lifecycle_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("risk_tier", sa.String(length=16), nullable=True),
        sa.Column("team", sa.String(length=128), nullable=True),
        sa.Column("tag_key", sa.String(length=64), nullable=True),
        sa.Column("tag_value", sa.String(length=256), nullable=True),
        sa.Column("definition", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("priority"),
    )
    op.create_table(
        "lifecycle_instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("started_at"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(["version_id"], ["model_versions.id"]),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"]),
        sa.ForeignKeyConstraint(["definition_id"], ["lifecycle_definitions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version_id"),
    )
    op.create_index("ix_lifecycle_instances_model", "lifecycle_instances", ["model_id"])
    op.create_index("ix_lifecycle_instances_definition", "lifecycle_instances", ["definition_id"])
    op.create_table(
        "lifecycle_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=64), nullable=True),
        sa.Column("to_state", sa.String(length=64), nullable=True),
        sa.Column("transition", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        _at("at"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("gates", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["lifecycle_instances.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lifecycle_history_instance", "lifecycle_history", ["instance_id", "id"])
    op.create_table(
        "lifecycle_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("transition", sa.String(length=64), nullable=False),
        sa.Column("gate_index", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("needed", sa.Integer(), nullable=False),
        sa.Column("separation_of_duties", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("escalated_to", sa.String(length=32), nullable=True),
        _at("escalate_at", nullable=True),
        _at("created_at"),
        _at("decided_at", nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["lifecycle_instances.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lifecycle_tasks_instance", "lifecycle_tasks", ["instance_id", "visit"])
    op.create_index("ix_lifecycle_tasks_status_role", "lifecycle_tasks", ["status", "role"])
    op.create_index(
        "uq_lifecycle_open_task",
        "lifecycle_tasks",
        ["instance_id", "transition", "gate_index"],
        unique=True,
        sqlite_where=_OPEN_ONLY,
        postgresql_where=_OPEN_ONLY,
    )
    op.create_table(
        "lifecycle_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _at("at"),
        sa.ForeignKeyConstraint(["task_id"], ["lifecycle_tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lifecycle_decisions_task", "lifecycle_decisions", ["task_id"])
    op.create_index(
        "uq_lifecycle_vote",
        "lifecycle_decisions",
        ["task_id", "actor"],
        unique=True,
        sqlite_where=_VOTE_ONLY,
        postgresql_where=_VOTE_ONLY,
    )
    op.create_table(
        "lifecycle_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        _at("due_at"),
        _at("fired_at", nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["lifecycle_instances.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["lifecycle_tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lifecycle_timers_instance", "lifecycle_timers", ["instance_id"])
    op.create_index(
        "ix_lifecycle_timers_due",
        "lifecycle_timers",
        ["due_at"],
        sqlite_where=_PENDING_ONLY,
        postgresql_where=_PENDING_ONLY,
    )
    op.create_table(
        "lifecycle_production",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        _at("since"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["lifecycle_instances.id"]),
        sa.PrimaryKeyConstraint("model_id"),
        sa.UniqueConstraint("instance_id"),
    )


def downgrade() -> None:
    op.drop_table("lifecycle_production")
    op.drop_index("ix_lifecycle_timers_due", table_name="lifecycle_timers")
    op.drop_index("ix_lifecycle_timers_instance", table_name="lifecycle_timers")
    op.drop_table("lifecycle_timers")
    op.drop_index("uq_lifecycle_vote", table_name="lifecycle_decisions")
    op.drop_index("ix_lifecycle_decisions_task", table_name="lifecycle_decisions")
    op.drop_table("lifecycle_decisions")
    op.drop_index("uq_lifecycle_open_task", table_name="lifecycle_tasks")
    op.drop_index("ix_lifecycle_tasks_status_role", table_name="lifecycle_tasks")
    op.drop_index("ix_lifecycle_tasks_instance", table_name="lifecycle_tasks")
    op.drop_table("lifecycle_tasks")
    op.drop_index("ix_lifecycle_history_instance", table_name="lifecycle_history")
    op.drop_table("lifecycle_history")
    op.drop_index("ix_lifecycle_instances_definition", table_name="lifecycle_instances")
    op.drop_index("ix_lifecycle_instances_model", table_name="lifecycle_instances")
    op.drop_table("lifecycle_instances")
    op.drop_table("lifecycle_rules")
    op.drop_table("lifecycle_definitions")
