"""Identifiers are matched whole: no trailing newline, control, format or decomposed twins.

``re.match`` with ``$`` also matches before a final newline, so ``"iris\\n"`` once
created a twin of ``iris``; an alias ``champion\\n`` and a user ``viewer1\\n`` were made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.helpers import sklearn_spec, skops_file, upload, version_form
from tests.lifecycle.workbench import GATED
from tests.serving.test_deployments import SCHEMA, deploy

from modelsteward.context import Steward
from modelsteward.errors import InvalidInput
from modelsteward.identity.users import SYSTEM, create_user, issue_token
from modelsteward.names import check_alias, check_label, check_name
from modelsteward.store.artifacts import check_sha256

NFC, NFD = "caf\u00e9", "cafe\u0301"  # the same word, composed and decomposed
HOSTILE = {
    "newline": "\n",
    "carriage return": "\r",
    "crlf": "\r\n",
    "nul": "\x00",
    "rtl override": "\u202e",
}


def twins(base: str) -> list[str]:
    """``base`` with each hostile suffix, one hostile character inside, and its NFD twin."""
    return [
        *(base + s for s in HOSTILE.values()),
        base[:2] + "\u202e" + base[2:],
        NFD + base,
    ]


def refused_by_api(response: httpx.Response) -> None:
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("invalid_input", "bad_request")


@pytest.mark.parametrize("value", twins("iris"), ids=repr)
@pytest.mark.parametrize(
    "check",
    [
        lambda v: check_name(v, what="model name"),
        check_alias,
        lambda v: check_label(v, what="token name"),
    ],
    ids=["name", "alias", "label"],
)
def test_every_check_refuses_hostile_characters(check: Any, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check(value)
    assert "\n" not in caught.value.message and "\x00" not in caught.value.message


def test_labels_take_composed_letters_and_refuse_their_decomposed_twins() -> None:
    assert check_label(f"laptop {NFC} 2", what="token name") == f"laptop {NFC} 2"
    with pytest.raises(InvalidInput, match="NFC"):
        check_label(f"laptop {NFD} 2", what="token name")
    with pytest.raises(InvalidInput):
        check_label("   ", what="token name")


def test_a_sha256_with_a_trailing_newline_is_not_a_digest() -> None:
    digest = "a" * 64
    assert check_sha256(digest) == digest
    with pytest.raises(InvalidInput):
        check_sha256(digest + "\n")


@pytest.mark.parametrize("value", twins("iris"), ids=repr)
def test_no_model_twin_is_created_over_the_api(api: httpx.Client, value: str) -> None:
    assert api.post("/api/v1/models", json={"name": "iris"}).status_code == 201
    refused_by_api(api.post("/api/v1/models", json={"name": value}))
    assert [m["name"] for m in api.get("/api/v1/models").json()["items"]] == ["iris"]


@pytest.fixture
def churn_v1(api: httpx.Client, tmp_path: Path) -> httpx.Client:
    api.post("/api/v1/models", json={"name": "churn"})
    registered = api.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec(input_schema=SCHEMA)),
        files=[upload(skops_file(tmp_path))],
    )
    assert registered.status_code == 201, registered.text
    return api


@pytest.mark.parametrize("value", twins("champion"), ids=repr)
def test_no_alias_twin_is_set_over_the_api(churn_v1: httpx.Client, value: str) -> None:
    path = "/api/v1/models/churn/aliases/"
    assert churn_v1.put(path + "champion", json={"version": 1}).status_code == 200
    refused_by_api(churn_v1.put(path + quote(value, safe=""), json={"version": 1}))
    aliases = churn_v1.get("/api/v1/models/churn/versions/1").json()["aliases"]
    assert aliases == ["champion"]


@pytest.mark.parametrize("value", twins("viewer1"), ids=repr)
def test_no_user_twin_and_no_hostile_token_name_is_created(api: httpx.Client, value: str) -> None:
    assert api.post("/api/v1/users", json={"name": "viewer1", "role": "viewer"}).status_code == 201
    refused_by_api(api.post("/api/v1/users", json={"name": value, "role": "viewer"}))
    assert [u["name"] for u in api.get("/api/v1/users").json()].count("viewer1") == 1
    assert len(api.get("/api/v1/users").json()) == 2  # admin and viewer1
    refused_by_api(api.post("/api/v1/users/viewer1/tokens", json={"name": value}))
    assert (
        api.post("/api/v1/users/viewer1/tokens", json={"name": f"{NFC} laptop"}).status_code == 201
    )


@pytest.mark.usefixtures("ungoverned")
@pytest.mark.parametrize("value", twins("churn-live"), ids=repr)
def test_no_deployment_or_environment_twin_is_created(churn_v1: httpx.Client, value: str) -> None:
    deploy(churn_v1, 1, name="churn-live")
    for field in ("name", "environment"):
        body = {"model": "churn", "version": 1, field: value}
        refused_by_api(churn_v1.post("/api/v1/deployments", json=body))
    listed = churn_v1.get("/api/v1/deployments").json()
    assert [(d["name"], d["environment"]) for d in listed] == [("churn-live", "production")]


@pytest.mark.usefixtures("ungoverned")
@pytest.mark.parametrize("value", twins("ops"), ids=repr)
def test_no_monitor_twin_is_created(churn_v1: httpx.Client, value: str) -> None:
    deploy(churn_v1, 1)
    path = "/api/v1/deployments/churn-production/monitors"
    spec = {"type": "operations"}
    assert churn_v1.post(path, json={"name": "ops", "spec": spec}).status_code == 201
    before = sorted(m["name"] for m in churn_v1.get(path).json())
    refused_by_api(churn_v1.post(path, json={"name": value, "spec": spec}))
    assert sorted(m["name"] for m in churn_v1.get(path).json()) == before


@pytest.mark.parametrize("value", twins("gated"), ids=repr)
def test_no_life_cycle_twin_is_saved(api: httpx.Client, value: str) -> None:
    hostile = GATED.replace("name: gated", f"name: {json.dumps(value)}", 1)
    saved = api.post(
        "/api/v1/lifecycles", content=hostile, headers={"content-type": "application/yaml"}
    )
    refused_by_api(saved)


def test_service_functions_refuse_a_user_with_a_trailing_newline(steward: Steward) -> None:
    with pytest.raises(InvalidInput):
        create_user(steward, SYSTEM, "viewer1\n", "viewer")
    create_user(steward, SYSTEM, "viewer1", "viewer")
    with pytest.raises(InvalidInput):
        issue_token(steward, SYSTEM, "viewer1", "laptop\u202e")
