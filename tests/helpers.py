"""Builders shared by tests: real fitted models saved in real formats."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import skops.io
from sklearn.linear_model import LogisticRegression

from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.events import outbox
from modelsteward.events.dispatcher import Dispatcher
from modelsteward.events.domain import DomainEvent
from modelsteward.identity.users import SYSTEM, create_user, issue_token, list_users
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.store import ensure_library


def training_frame(rows: int = 80, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.integers(18, 90, rows), "income": rng.normal(50, 10, rows)})
    labels = (frame["income"] + rng.normal(0, 5, rows) > 50).astype(int).to_numpy()
    return frame, labels


def fitted_model(seed: int = 0) -> LogisticRegression:
    frame, labels = training_frame(seed=seed)
    return LogisticRegression().fit(frame, labels)


def skops_file(directory: Path, seed: int = 0, name: str = "model.skops") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    skops.io.dump(fitted_model(seed), path)
    return path


def version_form(spec: dict[str, Any]) -> dict[str, str]:
    return {"spec": json.dumps(spec)}


def upload(path: Path, name: str | None = None) -> tuple[str, tuple[str, bytes, str]]:
    return ("file", (name or path.name, path.read_bytes(), "application/octet-stream"))


def sklearn_spec(**extra: Any) -> dict[str, Any]:
    return {"flavor": "sklearn", "files": [{"role": "model", "name": "model.skops"}], **extra}


def settings_for(home: Path, db_url: str | None = None, **extra: str) -> Settings:
    env = {"STEWARD_HOME": str(home), **extra}
    if db_url:
        env["STEWARD_DB_URL"] = db_url
    return Settings.from_env(env)


def own_origin(client: httpx.Client) -> dict[str, str]:
    """The ``Origin`` header a browser sends with a form posted from the server's own page."""
    return {"Origin": str(client.base_url).rstrip("/")}


def admin_token_of(instance: Steward) -> str:
    return instance.settings.admin_token_path.read_text().strip()


def token_for(instance: Steward, role: str, name: str | None = None) -> str:
    """Create a user with ``role`` and return a fresh token for it."""
    user = name or f"{role.replace('-', '')}{uuid.uuid4().hex[:6]}"
    create_user(instance, SYSTEM, user, role)
    return issue_token(instance, SYSTEM, user, "test")


def people(instance: Steward, *names: str, role: str = "data-scientist") -> None:
    """Users with these names (those that exist are left as they are): a model's owner
    must be a user."""
    existing = {u["name"] for u in list_users(instance)}
    for name in names:
        if name not in existing:
            create_user(instance, SYSTEM, name, role)


def outbox_head(steward: Steward) -> int:
    """The position of the last committed event."""
    with steward.db.query() as conn:
        return outbox.head(conn)


def recorded(steward: Steward, *names: str, after: int = 0) -> list[DomainEvent]:
    """The committed events named ``names`` (all when none), oldest first: what every
    subscriber will be handed."""
    with steward.db.query() as conn:
        return outbox.read_after(conn, after, names or None, limit=1_000_000)


def settle(steward: Steward) -> None:
    """Deliver every committed event to the subscribers now, as a server's dispatcher
    would shortly (tests that call services directly have no dispatcher running)."""
    dispatcher = Dispatcher(steward)
    try:
        assert dispatcher.settle(), "events were still undelivered after 30 s"
    finally:
        dispatcher.stop()  # releases its leases, so the next settle need not wait them out


def wait_delivered(api: httpx.Client) -> None:
    """Until every cluster subscriber has handled every committed event."""
    for _ in range(1200):
        rows = api.get("/api/v1/events/subscribers").json()
        if all(r["behind"] in (None, 0) and r["pending"] == 0 for r in rows):
            return
        time.sleep(0.05)
    raise AssertionError("the server's subscribers did not catch up")


def follow_no_lifecycle(instance: Steward) -> Steward:
    """Install the library without assignment rules, so models follow no life cycle.

    For tests of serving and monitoring themselves: with no life cycle, nothing gates a
    deployment (``tests/serving/test_admission.py`` tests the gate). A server started
    afterwards finds the library installed and adds no default rule.
    """
    ensure_library(instance)
    put_rules(instance, SYSTEM, [])
    return instance
