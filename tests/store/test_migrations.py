"""Many processes starting at once against an empty database migrate it exactly once."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from tests.helpers import settings_for

from modelsteward.context import Steward
from modelsteward.registry.models import search_models
from modelsteward.store.db import Database
from modelsteward.store.migrate import alembic_config, upgrade
from modelsteward.store.tables import Model, ModelTag

SCRIPT = """
import sys
from modelsteward.store.db import Database
from modelsteward.store.migrate import upgrade
db = Database(sys.argv[1])
print("migrated" if upgrade(db) else "up-to-date")
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_starts_migrate_exactly_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("pg_database")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path}/s.db"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in results]
    outcomes = sorted(out.strip() for out, _ in results)
    assert outcomes == ["migrated"] + ["up-to-date"] * 7


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrading_copies_existing_tags_into_the_lookup_table(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("pg_database")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path}/s.db"
    )
    db = Database(url)
    with db.engine.begin() as conn:
        config = alembic_config(url)
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    models = Model.__table__
    now = datetime.now(UTC)
    rows = [
        {"name": f"m{i}", "tags": tags, "created_by": "old", "created_at": now, "updated_at": now}
        for i, tags in enumerate([{"team": "red", "tier": "1"}, {}, {"team": "blue"}])
    ]
    defaults = {"description": "", "owner": "", "team": "", "use_case": "", "risk_tier": "low"}
    with db.engine.begin() as conn:
        conn.execute(
            insert(models), [{**defaults, "status": "active", "last_version": 0, **r} for r in rows]
        )
    assert upgrade(db)
    with db.engine.connect() as conn:
        copied = conn.execute(select(ModelTag.key, ModelTag.value).order_by("key", "value"))
        assert [tuple(r) for r in copied] == [("team", "blue"), ("team", "red"), ("tier", "1")]
    db.dispose()
    steward = Steward(settings_for(tmp_path / "home", url))
    assert [m.name for m in search_models(steward, tag="team").items] == ["m0", "m2"]
    steward.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrading_maps_owner_text_to_users_and_keeps_the_rest_as_a_tag(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("pg_database")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path}/s.db"
    )
    db = Database(url)
    with db.engine.begin() as conn:
        config = alembic_config(url)
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
    now = datetime.now(UTC)
    users = sa.table("users", *(sa.column(c) for c in ("name", "role", "disabled", "created_at")))
    old_models = sa.table(
        "models",
        *(sa.column(c) for c in ("name", "description", "owner", "team", "use_case")),
        *(sa.column(c) for c in ("risk_tier", "status", "last_version", "created_by")),
        sa.column("tags", sa.JSON),
        sa.column("created_at"),
        sa.column("updated_at"),
    )
    fixed = {"description": "", "team": "", "use_case": "", "risk_tier": "low"}
    fixed |= {"status": "active", "last_version": 0, "created_by": "old"}
    with db.engine.begin() as conn:
        conn.execute(
            insert(users),
            [{"name": "ana", "role": "operator", "disabled": False, "created_at": now}],
        )
        conn.execute(
            insert(old_models),
            [
                {**fixed, "name": n, "owner": o, "tags": t, "created_at": now, "updated_at": now}
                for n, o, t in [
                    ("by-ana", "ana", {}),
                    ("unowned", "", {}),
                    ("by-team", "clinical-ml", {"domain": "health"}),
                ]
            ],
        )
    assert upgrade(db)
    with db.engine.connect() as conn:
        rows = conn.execute(select(Model.name, Model.owner, Model.tags).order_by(Model.name))
        assert [tuple(r) for r in rows] == [
            ("by-ana", "ana", {}),
            ("by-team", None, {"domain": "health", "former_owner": "clinical-ml"}),
            ("unowned", None, {}),
        ]
        tagged = conn.execute(
            select(ModelTag.key, ModelTag.value).where(ModelTag.key == "former_owner")
        )
        assert [tuple(r) for r in tagged] == [("former_owner", "clinical-ml")]
    with pytest.raises(IntegrityError), db.engine.begin() as conn:  # a reference, enforced
        conn.execute(sa.update(Model).where(Model.name == "by-ana").values(owner="nobody"))
    db.dispose()
    steward = Steward(settings_for(tmp_path / "home", url))
    assert [m.name for m in search_models(steward, tag="former_owner").items] == ["by-team"]
    steward.close()
