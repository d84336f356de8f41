"""The model inventory: create, find, filter, page, update, archive — on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests.helpers import people

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.models import create_model, search_models, update_model
from modelsteward.registry.specs import ModelSpec, ModelUpdate


def test_created_model_is_found_with_its_fields(
    any_api: httpx.Client, any_steward: Steward
) -> None:
    people(any_steward, "ana")
    body = {
        "name": "churn",
        "owner": "ana",
        "team": "growth",
        "risk_tier": "high",
        "use_case": "retention offers",
        "tags": {"domain": "marketing"},
    }
    created = any_api.post("/api/v1/models", json=body)
    assert created.status_code == 201
    model = any_api.get("/api/v1/models/churn").json()
    assert {k: model[k] for k in body} == body
    assert model["latest_version"] == 0 and model["status"] == "active"
    assert model["created_by"] == "admin"


def test_exactly_one_of_32_concurrent_creates_wins(any_api: httpx.Client, any_server: str) -> None:
    headers = dict(any_api.headers)

    def create(_: int) -> int:
        with httpx.Client(base_url=any_server, headers=headers, timeout=60) as c:
            return c.post("/api/v1/models", json={"name": "contended"}).status_code

    with ThreadPoolExecutor(32) as pool:
        codes = list(pool.map(create, range(32)))
    assert sorted(codes) == [201] + [409] * 31
    assert any_api.get("/api/v1/models", params={"q": "contended"}).json()["total"] == 1


def test_search_filters_and_pages(any_steward: Steward) -> None:
    people(any_steward, "ana", "bo")
    for i in range(12):
        create_model(
            any_steward,
            SYSTEM,
            ModelSpec(
                name=f"fraud-{i:02d}",
                owner="ana" if i % 2 else "bo",
                risk_tier="high" if i < 4 else "low",
                tags={"domain": "payments" if i < 6 else "cards"},
            ),
        )
    assert search_models(any_steward, owner="ana").total == 6
    assert search_models(any_steward, risk_tier="high").total == 4
    assert search_models(any_steward, tag="domain=cards").total == 6
    assert search_models(any_steward, tag="domain").total == 12
    assert search_models(any_steward, q="fraud-1").total == 2
    page = search_models(any_steward, limit=5, offset=10)
    assert [m.name for m in page.items] == ["fraud-10", "fraud-11"] and page.total == 12


def test_like_wildcards_in_search_text_are_literal(steward: Steward) -> None:
    create_model(steward, SYSTEM, ModelSpec(name="a_b"))
    create_model(steward, SYSTEM, ModelSpec(name="axb"))
    assert [m.name for m in search_models(steward, q="a_b").items] == ["a_b"]
    assert search_models(steward, q="%").total == 0


def test_update_and_archive_are_audited_and_nothing_is_deleted(api: httpx.Client) -> None:
    api.post("/api/v1/models", json={"name": "pricing"})
    assert api.patch("/api/v1/models/pricing", json={"team": "li"}).json()["team"] == "li"
    assert api.post("/api/v1/models/pricing/archive").json()["status"] == "archived"
    assert api.get("/api/v1/models").json()["total"] == 0
    assert api.get("/api/v1/models", params={"status": "archived"}).json()["total"] == 1
    assert api.post("/api/v1/models/pricing/archive").status_code == 409
    assert api.post("/api/v1/models/pricing/restore").json()["status"] == "active"
    actions = [
        e["action"] for e in api.get("/api/v1/audit", params={"object_id": "pricing"}).json()
    ]
    assert actions == ["model.restored", "model.archived", "model.updated", "model.created"]


@pytest.mark.parametrize(
    "name", ["../x", "a/b", "a\x00b", "x" * 10_000, "tab\tname", "", ".hidden"]
)
def test_hostile_model_names_are_refused(api: httpx.Client, name: str) -> None:
    response = api.post("/api/v1/models", json={"name": name})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert api.get("/api/v1/models", params={"status": "all"}).json()["total"] == 0


def test_unknown_model_is_404_with_json(api: httpx.Client) -> None:
    response = api.get("/api/v1/models/nope")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and error["request_id"] == response.headers["x-request-id"]


def test_deeply_nested_json_is_refused_cleanly(api: httpx.Client) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = api.post(
        "/api/v1/models", content=deep, headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert "error" in response.json()


def test_malformed_json_is_a_clear_error(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/models", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.json()["error"]["message"]


def test_the_tag_filter_follows_every_change_of_tags(any_steward: Steward) -> None:
    create_model(any_steward, SYSTEM, ModelSpec(name="a", tags={"team": "red", "tier": "1"}))
    create_model(any_steward, SYSTEM, ModelSpec(name="b", tags={"team": "blue"}))
    create_model(any_steward, SYSTEM, ModelSpec(name="c"))

    def names(tag: str) -> list[str]:
        return [m.name for m in search_models(any_steward, tag=tag).items]

    assert (names("team"), names("team=red"), names("tier")) == (["a", "b"], ["a"], ["a"])
    update_model(any_steward, SYSTEM, "a", ModelUpdate(tags={"team": "blue"}))
    update_model(any_steward, SYSTEM, "c", ModelUpdate(tags={"tier": "2"}))
    assert (names("team=blue"), names("team=red"), names("tier")) == (["a", "b"], [], ["c"])
    update_model(any_steward, SYSTEM, "b", ModelUpdate(tags={}))
    assert (names("team"), names("tier=2")) == (["a"], ["c"])
    assert search_models(any_steward, tag="team=blue").items[0].tags == {"team": "blue"}


def test_tags_with_any_characters_are_matched_literally(any_steward: Steward) -> None:
    odd = {'a."b': "x'y", "$.k[0]": "%_", "ключ": "значение", "": "empty key"}
    create_model(any_steward, SYSTEM, ModelSpec(name="odd", tags=odd))
    create_model(any_steward, SYSTEM, ModelSpec(name="plain", tags={"a": "b"}))
    for key, value in odd.items():
        assert [m.name for m in search_models(any_steward, tag=f"{key}={value}").items] == ["odd"]
    assert search_models(any_steward, tag="$.k[0]=%").total == 0
    assert search_models(any_steward, tag="a=b").total == 1


@pytest.mark.parametrize("limit", [1, 4, 5, 7, 50])
def test_every_page_reports_the_same_total(any_steward: Steward, limit: int) -> None:
    for i in range(10):
        create_model(
            any_steward, SYSTEM, ModelSpec(name=f"m{i}", tags={"k": "even" if i % 2 else "odd"})
        )
    seen: list[str] = []
    for offset in range(0, 12, limit):
        page = search_models(any_steward, limit=limit, offset=offset)
        assert page.total == 10, (limit, offset)
        seen += [m.name for m in page.items]
    assert seen == [f"m{i}" for i in range(10)]
    assert search_models(any_steward, tag="k=odd", limit=limit, offset=20).total == 5
    assert search_models(any_steward, q="nothing-like-this", offset=3).total == 0


def test_text_search_ignores_case_in_names_and_descriptions(any_steward: Steward) -> None:
    create_model(any_steward, SYSTEM, ModelSpec(name="Fraud-Score", description="cards"))
    create_model(any_steward, SYSTEM, ModelSpec(name="churn", description="Retention OFFERS"))
    assert [m.name for m in search_models(any_steward, q="fraud-s").items] == ["Fraud-Score"]
    assert [m.name for m in search_models(any_steward, q="CARDS").items] == ["Fraud-Score"]
    assert [m.name for m in search_models(any_steward, q="offers").items] == ["churn"]
