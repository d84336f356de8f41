"""registry: a model's owner is a reference to a user

Revision ID: 0009
Revises: 0011
Create Date: 2026-12-10 09:00:00.000000

Separation of duties reads the owner, so it must name a user, not free text.
``models.owner`` becomes a nullable foreign key to ``users.name`` (user names are
unique and never change; every other "who" in the store is a user name too):

- an owner text that is a user's name stays, now as the reference;
- an empty owner becomes NULL (no owner);
- any other text (a team name, a departed person) becomes NULL and is kept in the
  model's tags as ``former_owner``, so nothing is lost and someone with
  ``models.transfer_ownership`` can assign a real owner.

The column is rebuilt by adding, copying, dropping and renaming (SQLite >= 3.35 does
each in place), never by recreating ``models``: on SQLite, with foreign keys on, that
would fail on the versions that reference it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0011"
branch_labels = None
depends_on = None

FORMER_OWNER = "former_owner"


def upgrade() -> None:
    conn = op.get_bind()
    models = sa.table(
        "models",
        sa.column("id", sa.Integer),
        sa.column("owner", sa.String),
        sa.column("tags", sa.JSON),
    )
    model_tags = sa.table(
        "model_tags",
        sa.column("model_id", sa.Integer),
        sa.column("key", sa.String),
        sa.column("value", sa.String),
    )
    users = {name for (name,) in conn.execute(sa.text("SELECT name FROM users"))}
    orphans = [
        (model_id, owner, tags)
        for model_id, owner, tags in conn.execute(
            sa.select(models.c.id, models.c.owner, models.c.tags)
        )
        if owner and owner not in users
    ]
    for model_id, owner, tags in orphans:
        conn.execute(
            sa.update(models)
            .where(models.c.id == model_id)
            .values(tags={**(tags or {}), FORMER_OWNER: owner[:256]})
        )
        conn.execute(
            sa.delete(model_tags).where(
                model_tags.c.model_id == model_id, model_tags.c.key == FORMER_OWNER
            )
        )
        conn.execute(
            sa.insert(model_tags).values(model_id=model_id, key=FORMER_OWNER, value=owner[:256])
        )

    if conn.dialect.name == "sqlite":  # alembic would ask for a table rebuild here
        op.execute(
            "ALTER TABLE models ADD COLUMN owner_ref VARCHAR(128) "
            "CONSTRAINT fk_models_owner_users REFERENCES users (name)"
        )
    else:
        op.add_column(
            "models",
            sa.Column(
                "owner_ref",
                sa.String(length=128),
                sa.ForeignKey("users.name", name="fk_models_owner_users"),
                nullable=True,
            ),
        )
    op.execute("UPDATE models SET owner_ref = owner WHERE owner IN (SELECT name FROM users)")
    op.drop_index("ix_models_owner", table_name="models")
    op.execute("ALTER TABLE models DROP COLUMN owner")
    op.execute("ALTER TABLE models RENAME COLUMN owner_ref TO owner")
    op.create_index("ix_models_owner", "models", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_models_owner", table_name="models")
    op.add_column("models", sa.Column("owner_text", sa.String(length=128), nullable=True))
    op.execute("UPDATE models SET owner_text = COALESCE(owner, '')")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_models_owner_users", "models", type_="foreignkey")
    op.execute("ALTER TABLE models DROP COLUMN owner")
    op.execute("ALTER TABLE models RENAME COLUMN owner_text TO owner")
    op.create_index("ix_models_owner", "models", ["owner"], unique=False)
