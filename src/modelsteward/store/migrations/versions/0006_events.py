"""events: the transactional outbox, subscriber cursors and failed deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=256), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _when("at"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,  # ids are cursor positions: never reused
    )
    op.create_index("ix_events_name", "events", ["name"])
    op.create_table(
        "event_cursors",
        sa.Column("subscriber", sa.String(length=128), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        _when("lease_until", nullable=True),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("subscriber"),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("id", BigId, nullable=False),
        sa.Column("subscriber", sa.String(length=128), nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("object_key", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_event_delivery", "event_deliveries", ["subscriber", "event_id"], unique=True
    )
    op.create_index("ix_event_deliveries_due", "event_deliveries", ["state", "next_attempt_at"])
    op.create_index(
        "ix_event_deliveries_object", "event_deliveries", ["subscriber", "object_key", "state"]
    )


def downgrade() -> None:
    op.drop_table("event_deliveries")
    op.drop_table("event_cursors")
    op.drop_index("ix_events_name", table_name="events")
    op.drop_table("events")
