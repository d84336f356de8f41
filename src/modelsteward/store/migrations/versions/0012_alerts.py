"""alerts: rules, their evaluation state per target, alerts and silences

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-07 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "alert_states",
        sa.Column("id", BigId, nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=600), nullable=False),
        sa.Column("recent", sa.JSON(), nullable=False),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("ok_streak", sa.Integer(), nullable=False),
        sa.Column("last_run_id", BigId, nullable=False),
        sa.Column("alert_id", BigId, nullable=True),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule_id", "target", name="uq_alert_state_target"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("open_key", sa.String(length=700), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("deployment", sa.String(length=128), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("monitor", sa.String(length=64), nullable=False),
        sa.Column("monitor_type", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("column_name", sa.String(length=128), nullable=False),
        sa.Column("segment", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        _when("window_end", nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("suppressed_by", sa.String(length=256), nullable=True),
        _when("opened_at"),
        _when("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        _when("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_alerts_state", "alerts", ["state", "opened_at"])
    op.create_index("ix_alerts_model", "alerts", ["model", "state"])
    op.create_index("ix_alerts_deployment", "alerts", ["deployment", "state"])
    op.create_index("ix_alerts_rule", "alerts", ["rule_id", "state"])
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _when("starts_at"),
        _when("ends_at"),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        _when("created_at"),
        sa.Column("expired_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_silences_ends", "silences", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_silences_ends", table_name="silences")
    op.drop_table("silences")
    for name in ("ix_alerts_rule", "ix_alerts_deployment", "ix_alerts_model", "ix_alerts_state"):
        op.drop_index(name, table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_states")
    op.drop_table("alert_rules")
