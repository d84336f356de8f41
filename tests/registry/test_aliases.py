"""Aliases: one version per alias, moved atomically, with full history."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.helpers import sklearn_spec, skops_file, upload, version_form


def _two_versions(api: httpx.Client, tmp_path: Path) -> None:
    api.post("/api/v1/models", json={"name": "churn"})
    path = skops_file(tmp_path)
    for _ in range(2):
        api.post(
            "/api/v1/models/churn/versions", data=version_form(sklearn_spec()), files=[upload(path)]
        )


def test_moving_an_alias_keeps_its_history(any_api: httpx.Client, tmp_path: Path) -> None:
    _two_versions(any_api, tmp_path)
    assert (
        any_api.put("/api/v1/models/churn/aliases/champion", json={"version": 1}).status_code == 200
    )
    moved = any_api.put("/api/v1/models/churn/aliases/champion", json={"version": 2}).json()
    assert (moved["from_version"], moved["to_version"]) == (1, 2)
    assert any_api.get("/api/v1/models/churn/versions/champion").json()["version"] == 2
    assert any_api.get("/api/v1/models/churn").json()["aliases"] == {"champion": 2}
    history = any_api.get("/api/v1/models/churn/aliases", params={"alias": "champion"}).json()
    assert [(h["from_version"], h["to_version"]) for h in history] == [(None, 1), (1, 2)]
    assert any_api.get("/api/v1/models", params={"alias": "champion"}).json()["total"] == 1


def test_an_alias_names_one_version_only(api: httpx.Client, tmp_path: Path) -> None:
    _two_versions(api, tmp_path)
    api.put("/api/v1/models/churn/aliases/champion", json={"version": 1})
    api.put("/api/v1/models/churn/aliases/champion", json={"version": 2})
    versions = api.get("/api/v1/models/churn/versions").json()
    assert {v["version"]: v["aliases"] for v in versions} == {2: ["champion"], 1: []}


def test_a_version_holding_an_alias_cannot_be_archived(api: httpx.Client, tmp_path: Path) -> None:
    _two_versions(api, tmp_path)
    api.put("/api/v1/models/churn/aliases/champion", json={"version": 1})
    refused = api.post("/api/v1/models/churn/versions/1/archive")
    assert refused.status_code == 409 and "champion" in refused.json()["error"]["message"]
    assert api.post("/api/v1/models/churn/versions/2/archive").json()["status"] == "archived"
    assert api.put("/api/v1/models/churn/aliases/champion", json={"version": 2}).status_code == 409


def test_removing_an_alias_is_recorded(api: httpx.Client, tmp_path: Path) -> None:
    _two_versions(api, tmp_path)
    api.put("/api/v1/models/churn/aliases/staging", json={"version": 2})
    assert api.delete("/api/v1/models/churn/aliases/staging").json()["to_version"] is None
    assert api.get("/api/v1/models/churn/versions/staging").status_code == 404
    actions = [e["action"] for e in api.get("/api/v1/audit", params={"object_id": "churn"}).json()]
    assert actions[:2] == ["alias.removed", "alias.moved"]


def test_bad_alias_names_and_versions_are_refused(api: httpx.Client, tmp_path: Path) -> None:
    _two_versions(api, tmp_path)
    for alias in ("Champion", "1", "a/b", "x" * 100):
        assert api.put(
            f"/api/v1/models/churn/aliases/{alias}", json={"version": 1}
        ).status_code in (404, 422)
    assert api.put("/api/v1/models/churn/aliases/champion", json={"version": 9}).status_code == 404
    assert api.get("/api/v1/models/churn").json()["aliases"] == {}
