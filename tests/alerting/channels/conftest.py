"""Fixtures of the channel tests: a steward allowed to reach 127.0.0.1, a receiver, and
alert events recorded as the alert evaluation records them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.alerting.channels.receivers import Receiver, receiver
from tests.helpers import settings_for

from modelsteward.alerting.events import AlertChanged
from modelsteward.context import Steward
from modelsteward.identity.users import ensure_bootstrap_admin

LOCAL = "127.0.0.0/8,::1/128"


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Steward]:
    """A SQLite steward whose channels may reach local servers."""
    instance = Steward(settings_for(tmp_path / "home", STEWARD_ALLOW_NETWORKS=LOCAL))
    ensure_bootstrap_admin(instance)
    yield instance
    instance.close()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def alert(alert_id: int = 7, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "alert_id": alert_id,
        "rule": "drift-high",
        "rule_id": 3,
        "severity": "critical",
        "state": "firing",
        "model": "credit-approval",
        "deployment": "credit-prod",
        "environment": "production",
        "version": 2,
        "monitor": "data-drift",
        "metric": "psi",
        "column": "income",
        "segment": "",
        "value": 0.31,
        "threshold": 0.2,
        "low": None,
        "high": None,
        "window_end": "2026-12-14T10:00:00+00:00",
        "summary": "psi of income is 0.31, above 0.2",
        "labels": {
            "team": "risk",
            "owner": "ana",
            "risk_tier": "high",
            "environment": "production",
            "model": "credit-approval",
            "deployment": "credit-prod",
            "severity": "critical",
            "rule": "drift-high",
        },
        "opened_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }
    return AlertChanged(**{**base, **fields}).model_dump()


def record_alert(
    steward: Steward, name: str = "alert.opened", alert_id: int = 7, **fields: Any
) -> None:
    state = {
        "alert.opened": "firing",
        "alert.acknowledged": "acknowledged",
        "alert.resolved": "resolved",
    }[name]
    with steward.change("test") as change:
        change.record(
            name, "alert", alert_id, payload=alert(alert_id, **{"state": state, **fields})
        )
