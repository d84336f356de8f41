"""registry: model_tags lookup table, index on aliases.version_id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 08:00:00.000000

``model_tags`` holds one row per tag of a model (a copy of ``models.tags``) so a
tag filter is an indexed lookup instead of decoding every model's JSON; existing
models' tags are copied in. ``ix_aliases_version_id`` serves "which aliases does
this version hold", asked on every version read.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 1_000


def upgrade() -> None:
    model_tags = op.create_table(
        "model_tags",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"]),
        sa.PrimaryKeyConstraint("model_id", "key"),
    )
    op.create_index("ix_model_tags_key_value", "model_tags", ["key", "value"], unique=False)
    op.create_index("ix_aliases_version_id", "aliases", ["version_id"], unique=False)

    models = sa.table("models", sa.column("id", sa.Integer), sa.column("tags", sa.JSON))
    conn = op.get_bind()
    rows: list[dict[str, object]] = []
    for model_id, tags in conn.execute(sa.select(models.c.id, models.c.tags)):
        for key, value in (tags or {}).items():
            rows.append({"model_id": model_id, "key": str(key), "value": str(value)})
        if len(rows) >= _BATCH:
            conn.execute(model_tags.insert(), rows)
            rows = []
    if rows:
        conn.execute(model_tags.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_aliases_version_id", table_name="aliases")
    op.drop_index("ix_model_tags_key_value", table_name="model_tags")
    op.drop_table("model_tags")
