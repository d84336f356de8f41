"""monitoring: monitors, monitor runs, metric points

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _when("next_run_at"),
        _when("last_run_at", nullable=True),
        sa.Column("last_status", sa.String(length=24), nullable=True),
        sa.Column("points_run_id", BigId, nullable=True),
        sa.Column("baseline", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deployment_id", "name", name="uq_monitor_name"),
    )
    op.create_index("ix_monitors_due", "monitors", ["enabled", "next_run_at"])
    op.create_table(
        "monitor_runs",
        sa.Column("id", BigId, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        _when("window_start", nullable=True),
        _when("window_end"),
        sa.Column("window_last", sa.Integer(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        _when("started_at"),
        _when("finished_at"),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_monitor_runs_monitor", "monitor_runs", ["monitor_id", "id"])
    op.create_table(
        "metric_points",
        sa.Column("id", BigId, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("run_id", BigId, nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("column_name", sa.String(length=128), nullable=False),
        sa.Column("segment", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("route", sa.String(length=16), nullable=False),
        _when("window_end"),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitors.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["monitor_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_points_series",
        "metric_points",
        ["monitor_id", "metric", "column_name", "segment", "window_end"],
    )
    op.create_index("ix_points_run", "metric_points", ["run_id"])
    op.create_index("ix_points_metric_time", "metric_points", ["metric", "window_end"])


def downgrade() -> None:
    op.drop_index("ix_points_metric_time", table_name="metric_points")
    op.drop_index("ix_points_run", table_name="metric_points")
    op.drop_index("ix_points_series", table_name="metric_points")
    op.drop_table("metric_points")
    op.drop_index("ix_monitor_runs_monitor", table_name="monitor_runs")
    op.drop_table("monitor_runs")
    op.drop_index("ix_monitors_due", table_name="monitors")
    op.drop_table("monitors")
