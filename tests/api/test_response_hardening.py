"""Every answer carries nosniff; the embedded database is readable by its owner only."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
from sqlalchemy import text
from tests.helpers import settings_for, sklearn_spec, skops_file, upload, version_form

from modelsteward.context import Steward


def test_every_answer_says_nosniff_once_the_download_route_included(
    api: httpx.Client, server: str, tmp_path: Path
) -> None:
    api.post("/api/v1/models", json={"name": "churn"})
    api.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec()),
        files=[upload(skops_file(tmp_path))],
    )
    answers = [
        api.get("/api/v1/models/churn/versions/1/files/model.skops"),
        api.get("/api/v1/models"),
        api.get("/api/v1/models/ghost"),
        httpx.get(server + "/api/v1/models"),
        httpx.get(server + "/login"),
        httpx.get(server + "/v2/health/live"),
        api.post("/api/v1/models", content=b"x" * (40 << 20)),
    ]
    for response in answers:
        assert response.headers.get_list("x-content-type-options") == ["nosniff"], (
            response.request.url,
            response.status_code,
        )


def test_the_sqlite_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    instance = Steward(settings_for(tmp_path / "home"))
    try:
        with instance.db.write() as session:
            session.execute(text("SELECT 1"))
        home = tmp_path / "home"
        for path in (home / "steward.db", home / "steward.db-wal", home / "steward.db-shm"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        instance.close()
