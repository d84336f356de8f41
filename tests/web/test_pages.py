"""The web pages, over real HTTP against a live server and a real SQLite inventory."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi.routing import APIRoute
from tests.helpers import own_origin

from modelsteward.api.app import create_app
from modelsteward.api.policy import SESSION_COOKIE, Policy, Public
from modelsteward.audit.trail import list_events
from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM, create_user, issue_token
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec

if TYPE_CHECKING:
    from tests.web.conftest import Inventory, SignIn

HTMX = {"HX-Request": "true"}


def rows_of(html: str) -> set[str]:
    """Model names linked from the inventory table."""
    return set(re.findall(r'class="row-title" href="/models/([^"]+)"', html))


def test_pages_redirect_to_login_when_not_signed_in(anonymous: httpx.Client) -> None:
    response = anonymous.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"
    response = anonymous.get("/models/credit-risk?tab=x")
    assert response.headers["location"] == "/login?next=/models/credit-risk%3Ftab%3Dx"


def test_the_api_keeps_answering_json_401(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/v1/models")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_expired_session_sends_htmx_to_the_login_page(anonymous: httpx.Client) -> None:
    anonymous.cookies.set(SESSION_COOKIE, "stw_revoked")
    headers = {**HTMX, "HX-Current-URL": f"{anonymous.base_url}/?owner=sam"}
    response = anonymous.get("/inventory/rows?owner=sam", headers=headers)
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=/%3Fowner%3Dsam"


def test_login_page_offers_password_and_token_sign_in(anonymous: httpx.Client) -> None:
    page = anonymous.get("/login?next=/models/x")
    assert page.status_code == 200
    assert 'name="password"' in page.text and 'name="token"' in page.text
    assert "$STEWARD_HOME/admin.token" in page.text
    assert 'name="next" value="/models/x"' in page.text


def test_token_login_sets_a_strict_session_cookie_and_shows_the_inventory(
    anonymous: httpx.Client, seeded: Inventory, sign_in: SignIn, admin_token: str
) -> None:
    response = sign_in(anonymous, admin_token)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    inventory = anonymous.get("/")
    assert inventory.status_code == 200
    assert rows_of(inventory.text) == {seeded.flagship, seeded.xss, *seeded.others}
    assert "admin" in inventory.text and "Sign out" in inventory.text


def test_password_login_issues_a_web_session_token(
    steward: Steward, anonymous: httpx.Client
) -> None:
    create_user(steward, SYSTEM, "dana", "data-scientist", password="correct horse")
    response = anonymous.post(
        "/login",
        data={"username": "dana", "password": "correct horse", "next": "/"},
        headers=own_origin(anonymous),
    )
    assert response.status_code == 303
    issued = list_events(steward, object_type="user", object_id="dana")[0]
    assert issued["action"] == "token.issued"
    assert issued["after"]["token_name"] == "web-session"
    assert "expires_at" in issued["after"]  # the session's lifetime, STEWARD_SESSION_HOURS
    page = anonymous.get("/")
    assert "dana" in page.text and "data-scientist" in page.text


def test_signing_out_revokes_the_web_session_token(
    steward: Steward, anonymous: httpx.Client
) -> None:
    create_user(steward, SYSTEM, "dana", "viewer", password="correct horse")
    anonymous.post(
        "/login",
        data={"username": "dana", "password": "correct horse", "next": "/"},
        headers=own_origin(anonymous),
    )
    session_token = anonymous.cookies[SESSION_COOKIE]
    anonymous.post("/logout", headers=own_origin(anonymous))
    api = anonymous.get("/api/v1/whoami", headers={"Authorization": f"Bearer {session_token}"})
    assert api.status_code == 401
    assert (
        list_events(steward, object_type="user", object_id="dana")[0]["action"] == "token.revoked"
    )


def test_wrong_password_shows_the_form_again_with_401(
    steward: Steward, anonymous: httpx.Client
) -> None:
    create_user(steward, SYSTEM, "dana", "viewer", password="correct horse")
    response = anonymous.post(
        "/login", data={"username": "dana", "password": "wrong"}, headers=own_origin(anonymous)
    )
    assert response.status_code == 401
    assert "Unknown user or wrong password." in response.text
    assert 'name="password"' in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_an_invalid_token_is_refused(anonymous: httpx.Client, sign_in: SignIn) -> None:
    response = sign_in(anonymous, "stw_not-a-token")
    assert response.status_code == 401
    assert "not valid or has been revoked" in response.text


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("/models/credit-risk", "/models/credit-risk"),
        ("//evil.com", "/"),
        ("//evil.com/models", "/"),
        ("https://evil.com", "/"),
        ("/\\evil.com", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_followed_only_to_local_paths(
    anonymous: httpx.Client, admin_token: str, next_path: str, expected: str
) -> None:
    response = anonymous.post(
        "/login",
        data={"method": "token", "token": admin_token, "next": next_path},
        headers=own_origin(anonymous),
    )
    assert response.status_code == 303
    assert response.headers["location"] == expected


def test_logout_clears_the_session(browser_session: httpx.Client) -> None:
    response = browser_session.post("/logout", headers=own_origin(browser_session))
    assert response.status_code == 303
    assert response.headers["location"] == "/login?signed_out=1"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert browser_session.get("/").status_code == 303
    assert "You are signed out." in browser_session.get("/login?signed_out=1").text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("risk_tier=high", {"credit-risk"}),
        ("owner=maria.lopez", {"credit-risk", "fraud-detector"}),
        ("tag=regulated", {"credit-risk", "fraud-detector"}),
        ("tag=domain=payments", {"fraud-detector"}),
        ("alias=challenger", {"credit-risk"}),
        ("q=forecast", {"demand-forecast"}),
        ("q=loan", {"credit-risk"}),
        ("status=archived", {"legacy-fraud"}),
        ("status=all&owner=sam.chen", {"churn-scorer", "legacy-fraud"}),
    ],
)
def test_filters_return_matching_rows(
    browser_session: httpx.Client, seeded: Inventory, query: str, expected: set[str]
) -> None:
    fragment = browser_session.get(f"/inventory/rows?{query}", headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="results"' in fragment.text
    assert rows_of(fragment.text) == expected
    pushed = urlsplit(fragment.headers["hx-push-url"])
    assert pushed.path == "/" and sorted(parse_qsl(pushed.query)) == sorted(parse_qsl(query))
    assert rows_of(browser_session.get(f"/?{query}").text) == expected


def test_no_match_says_so_and_offers_to_clear(
    browser_session: httpx.Client, seeded: Inventory
) -> None:
    fragment = browser_session.get("/inventory/rows?q=nothing-like-this", headers=HTMX)
    assert "No models match these filters." in fragment.text


def test_pages_of_the_inventory_link_to_each_other(
    steward: Steward, browser_session: httpx.Client
) -> None:
    for i in range(30):
        create_model(steward, SYSTEM, ModelSpec(name=f"model-{i:02d}"))
    first = browser_session.get("/")
    assert "Showing <strong>1–25</strong> of <strong>30</strong>" in first.text
    assert rows_of(first.text) == {f"model-{i:02d}" for i in range(25)}
    assert 'href="/?offset=25"' in first.text
    second = browser_session.get("/inventory/rows?offset=25", headers=HTMX)
    assert rows_of(second.text) == {f"model-{i:02d}" for i in range(25, 30)}
    assert 'href="/?"' in second.text and "?offset=50" not in second.text


def test_an_empty_inventory_explains_how_to_register_a_model(
    browser_session: httpx.Client,
) -> None:
    page = browser_session.get("/")
    assert "No models registered yet." in page.text
    assert "steward models register" in page.text


def test_model_page_shows_versions_schema_lineage_and_history(
    browser_session: httpx.Client, seeded: Inventory
) -> None:
    page = browser_session.get(f"/models/{seeded.flagship}")
    assert page.status_code == 200
    html = page.text
    for fact in ("maria.lopez", "credit-analytics", "Approve or refer consumer loan"):
        assert fact in html
    assert all(f">v{n}</a>" in html for n in (1, 2, 3))
    assert "Version 3" in html  # the newest version is selected by default
    assert all(f"<code>{column}</code>" in html for column in ("age", "debt_ratio"))
    assert "default_probability" in html and "3f9c2a7e1b" in html
    lineage = re.search(r'<svg [^>]*class="lineage-graph".*?</svg>', html, re.S)
    assert lineage is not None
    assert "applications/2025q1.parquet" in lineage.group() and "pd-train-002" in lineage.group()
    assert lineage.group().count('class="lineage-parent"') == 2
    assert html.count('class="metric-chart"') == 3  # auc, brier, ks
    assert "champion" in html and "challenger" in html
    assert "alias.moved" in html and "version.registered" in html
    assert "champion: v2 → v3" in html


def test_a_version_page_selects_that_version(
    browser_session: httpx.Client, seeded: Inventory
) -> None:
    page = browser_session.get(f"/models/{seeded.flagship}/versions/1")
    assert "Version 1" in page.text and "Retrained on 2024q4" in page.text
    fragment = browser_session.get(f"/models/{seeded.flagship}/versions/champion", headers=HTMX)
    assert "<html" not in fragment.text and 'id="version-area"' in fragment.text
    assert "Version 3" in fragment.text and "lineage-graph" in fragment.text


def test_user_text_is_escaped_everywhere(browser_session: httpx.Client, seeded: Inventory) -> None:
    escaped = "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"
    for path in ("/", f"/models/{seeded.xss}", f"/models/{seeded.xss}/versions/1"):
        html = browser_session.get(path).text
        assert seeded.xss_text not in html, path
        assert escaped in html, path


def test_unknown_model_is_an_html_404_page(browser_session: httpx.Client) -> None:
    response = browser_session.get("/models/no-such-model")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in response.text and "no-such-model" in response.text
    assert "admin" in response.text  # still signed in: the header shows who
    missing = browser_session.get("/no/such/page")
    assert missing.status_code == 404 and "There is no page at this address." in missing.text
    api = browser_session.get("/api/v1/no/such/route")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_admins_download_files_through_the_page_route(
    steward: Steward, browser_session: httpx.Client, seeded: Inventory
) -> None:
    page = browser_session.get(f"/models/{seeded.flagship}/versions/2")
    link = f"/models/{seeded.flagship}/versions/2/files/model.skops"
    assert f'href="{link}"' in page.text
    download = browser_session.get(link)
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert hashlib.sha256(download.content).hexdigest() == download.headers["x-content-sha256"]
    assert browser_session.get(link.replace("model.skops", "nope.bin")).status_code == 404


def test_viewers_see_no_download_link_and_no_audit_trail(
    steward: Steward, anonymous: httpx.Client, seeded: Inventory, sign_in: SignIn
) -> None:
    create_user(steward, SYSTEM, "vic", "viewer")
    assert sign_in(anonymous, issue_token(steward, SYSTEM, "vic", "test")).status_code == 303
    page = anonymous.get(f"/models/{seeded.flagship}")
    assert page.status_code == 200
    assert "/files/model.skops" not in page.text
    assert "cannot read the audit trail" in page.text
    refused = anonymous.get(f"/models/{seeded.flagship}/versions/1/files/model.skops")
    assert refused.status_code == 403 and "Not allowed" in refused.text


def test_pages_send_a_strict_content_security_policy(browser_session: httpx.Client) -> None:
    headers = browser_session.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert browser_session.get("/static/htmx.min.js").status_code == 200
    assert browser_session.get("/static/steward.css").headers["content-type"].startswith("text/css")
    assert browser_session.get("/static/README.md").status_code == 404


def test_every_web_route_declares_a_policy(steward: Steward) -> None:
    routes, web = list(create_app(steward).routes), []
    while routes:  # included routers stay nested; flatten them
        route = routes.pop()
        nested = getattr(route, "original_router", None)
        routes.extend(nested.routes if nested is not None else [])
        if isinstance(route, APIRoute) and not route.path.startswith("/api"):
            web.append(route)
    assert {r.path for r in web} >= {"/", "/login", "/models/{name}", "/static/{file_name}"}
    for route in web:
        calls = [d.call for d in route.dependant.dependencies]
        assert any(isinstance(c, Policy | Public) for c in calls), route.path


def test_an_unexpected_failure_is_an_html_500_page_without_details(
    browser_session: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("modelsteward.web.inventory.search_models", broken)
    response = browser_session.get("/")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "request id" in response.text and "secret internals" not in response.text
