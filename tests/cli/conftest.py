"""CLI tests talk to a live server through STEWARD_URL / STEWARD_TOKEN."""

from __future__ import annotations

import pytest
from tests.helpers import admin_token_of

from modelsteward.context import Steward


@pytest.fixture
def env(steward: Steward, server: str) -> dict[str, str]:
    return {"STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}
