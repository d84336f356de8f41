"""Many processes starting at once against an empty database migrate it exactly once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
