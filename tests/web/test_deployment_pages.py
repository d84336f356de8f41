"""The deployment pages over real HTTP: a live server, real rollouts and a real prediction log."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from fastapi.routing import APIRoute
from tests.helpers import sklearn_spec, upload, version_form
from tests.web.deploying import deploy, send_predictions, wait_for_revision

from modelsteward.api.app import create_app
from modelsteward.api.policy import Policy
from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM, create_user, issue_token
from modelsteward.web.csrf import same_origin

if TYPE_CHECKING:
    from tests.web.conftest import Deployed, Inventory, SignIn

HTMX = {"HX-Request": "true"}


def origin_of(client: httpx.Client) -> dict[str, str]:
    return {"Origin": str(client.base_url).rstrip("/")}


def revisions_of(api: httpx.Client, name: str) -> list[dict[str, object]]:
    return api.get(f"/api/v1/deployments/{name}").json()["revisions"]


def live_fragment(client: httpx.Client, name: str) -> httpx.Response:
    page = client.get(f"/deployments/{name}").text
    seen = re.search(r'/live\?seen=([^"]+)"', page)
    assert seen is not None
    return client.get(f"/deployments/{name}/live?seen={seen.group(1)}", headers=HTMX)


def test_the_list_shows_every_deployment_with_its_routes(
    browser_session: httpx.Client, deployed: Deployed
) -> None:
    page = browser_session.get("/deployments")
    assert page.status_code == 200
    html = page.text
    assert f'href="/deployments/{deployed.canary}"' in html
    assert f'href="/deployments/{deployed.staging}"' in html
    assert f'href="/models/{deployed.model}"' in html
    assert "v2 champion 80%" in html and "v3 challenger 20%" in html
    assert "v1 champion 100%" in html and "canary" in html
    assert '<a href="/deployments" aria-current="page">Deployments</a>' in html  # the nav


def test_the_list_filters_by_environment(browser_session: httpx.Client, deployed: Deployed) -> None:
    staging = browser_session.get("/deployments?environment=staging").text
    assert deployed.staging in staging and f"/deployments/{deployed.canary}" not in staging
    assert 'href="/deployments?environment=staging" aria-current="page"' in staging
    unknown = browser_session.get("/deployments?environment=nowhere").text
    assert deployed.staging in unknown and deployed.canary in unknown


def test_no_deployments_explains_how_to_deploy(browser_session: httpx.Client) -> None:
    html = browser_session.get("/deployments").text
    assert "No deployments yet." in html and "steward deploy NAME:VERSION" in html


def test_the_page_shows_the_split_steps_and_live_traffic(
    api: httpx.Client, browser_session: httpx.Client, deployed: Deployed
) -> None:
    send_predictions(api, deployed.canary, 12)
    deadline = time.monotonic() + 15
    while (
        "<dt>Requests</dt><dd>12</dd>" not in live_fragment(browser_session, deployed.canary).text
    ):
        assert time.monotonic() < deadline, "the predictions never reached the page"
        time.sleep(0.3)
    html = browser_session.get(f"/deployments/{deployed.canary}").text
    assert f'href="/models/{deployed.model}"' in html and "production" in html
    split = re.search(r'<svg [^>]*class="traffic-split".*?</svg>', html, re.S)
    assert split is not None
    assert "champion 80%" in split.group() and "challenger 20%" in split.group()
    assert 'aria-label="Traffic split: v2 champion 80%, v3 challenger 20%"' in split.group()
    for step in ("load", "verify", "smoke", "ready", "switch"):
        assert f'<span class="step-name">{step}</span>' in html
    assert html.count('class="step step-ok"') == 10  # two revisions, five steps each
    assert 'hx-trigger="every 5s"' in html and 'id="live"' in html
    assert html.count('class="metric-chart live-chart"') == 3
    live = re.search(r'<section id="live".*?</section>', html, re.S)
    assert live is not None and "<dt>Requests</dt><dd>12</dd>" in live.group()


def test_the_live_fragment_reloads_the_page_once_the_deployment_changed(
    api: httpx.Client, browser_session: httpx.Client, deployed: Deployed
) -> None:
    fragment = live_fragment(browser_session, deployed.canary)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and fragment.text.lstrip().startswith('<section id="live"')
    assert "hx-refresh" not in fragment.headers
    stale = browser_session.get(
        f"/deployments/{deployed.canary}/live?seen=1.1.applied", headers=HTMX
    )
    assert stale.headers["hx-refresh"] == "true"
    direct = browser_session.get(f"/deployments/{deployed.canary}/live")
    assert (
        direct.status_code == 303
        and direct.headers["location"] == f"/deployments/{deployed.canary}"
    )


def test_changing_traffic_through_the_form_rolls_out_a_new_revision(
    api: httpx.Client, browser_session: httpx.Client, deployed: Deployed
) -> None:
    page = browser_session.get(f"/deployments/{deployed.canary}").text
    assert f'action="/deployments/{deployed.canary}/traffic"' in page
    assert 'name="traffic" type="number"' in page and 'value="20"' in page
    response = browser_session.post(
        f"/deployments/{deployed.canary}/traffic",
        data={"traffic": "35"},
        headers=origin_of(browser_session),
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/deployments/{deployed.canary}"
    newest = revisions_of(api, deployed.canary)[0]
    assert newest["revision"] == 3 and newest["reason"] == "challenger traffic 35%"
    assert wait_for_revision(api, newest)["status"] == "applied"
    shown = browser_session.get(f"/deployments/{deployed.canary}").text
    assert "Revision 3 (challenger traffic 35%) was rolled out and is serving now." in shown
    assert "v2 champion 65%" in shown and "v3 challenger 35%" in shown
    again = browser_session.get(f"/deployments/{deployed.canary}").text
    assert 'id="flash"' not in again  # the notice is shown once


def test_an_invalid_share_shows_the_page_with_the_reason(
    api: httpx.Client, browser_session: httpx.Client, deployed: Deployed
) -> None:
    for value in ("150", "-5", "ten", "٣"):
        response = browser_session.post(
            f"/deployments/{deployed.canary}/traffic",
            data={"traffic": value},
            headers=origin_of(browser_session),
        )
        assert response.status_code == 422, value
        assert "must be a whole number from 0 to 100" in response.text
        assert 'id="form-error"' in response.text
    assert len(revisions_of(api, deployed.canary)) == 2


def test_a_deployment_without_challenger_has_no_traffic_form(
    browser_session: httpx.Client, deployed: Deployed
) -> None:
    page = browser_session.get(f"/deployments/{deployed.staging}").text
    assert "/traffic" not in page and "No challenger is deployed" in page
    refused = browser_session.post(
        f"/deployments/{deployed.staging}/traffic",
        data={"traffic": "10"},
        headers=origin_of(browser_session),
    )
    assert refused.status_code == 409 and "no challenger" in refused.text


def test_the_rollback_button_returns_to_an_earlier_revision(
    api: httpx.Client, browser_session: httpx.Client, deployed: Deployed
) -> None:
    page = browser_session.get(f"/deployments/{deployed.canary}").text
    assert "Roll back to revision 1" in page
    assert "Roll back to revision 2" not in page  # revision 2 is serving
    response = browser_session.post(
        f"/deployments/{deployed.canary}/rollback",
        data={"revision": "1"},
        headers=origin_of(browser_session),
    )
    assert response.status_code == 303
    newest = wait_for_revision(api, revisions_of(api, deployed.canary)[0])
    assert newest["status"] == "applied" and newest["reason"] == "rollback to revision 1"
    assert newest["routes"] == [{"version": 2, "role": "champion", "weight": 100}]
    shown = browser_session.get(f"/deployments/{deployed.canary}").text
    assert "rollback to r1" in shown and "Roll back to revision 2" in shown
    assert (
        "v2 champion 100%" in shown and "challenger 20%" not in shown.split("Revision history")[0]
    )


def test_rolling_back_to_the_serving_revision_is_refused_on_the_page(
    browser_session: httpx.Client, deployed: Deployed
) -> None:
    response = browser_session.post(
        f"/deployments/{deployed.canary}/rollback",
        data={"revision": "2"},
        headers=origin_of(browser_session),
    )
    assert response.status_code == 409 and "already serving" in response.text


def test_a_failed_rollout_shows_the_red_step_and_the_rollback(
    steward: Steward,
    api: httpx.Client,
    browser_session: httpx.Client,
    deployed: Deployed,
    skops_file: Path,
) -> None:
    # Two declared columns for a model fitted on four: the smoke test's prediction fails.
    columns = [{"name": name, "type": "float"} for name in ("age", "income")]
    spec = sklearn_spec(input_schema={"columns": columns})
    registered = api.post(
        f"/api/v1/models/{deployed.model}/versions",
        data=version_form(spec),
        files=[upload(skops_file)],
    )
    assert registered.status_code == 201, registered.text
    failed = deploy(api, deployed.model, 4, "production", strategy="canary", traffic=10)
    assert failed["status"] == "rolled_back"
    html = browser_session.get(f"/deployments/{deployed.canary}").text
    revision = re.search(
        r'<li class="revision" id="revision-3">.*?</ol>\s*(<p.*?</p>)?', html, re.S
    )
    assert revision is not None
    block = revision.group()
    assert "failed · rolled back" in block
    assert '<li class="step step-failed"' in block and ">smoke</span>" in block
    assert '<li class="step step-skipped">' in block  # ready and switch never ran
    assert '<li class="step step-rollback"' in block
    assert "smoke failed:" in block
    assert "v2 champion 80%" in html.split("Revision history")[0]  # the old split still serves


def test_a_viewer_sees_no_forms_and_may_not_post(
    steward: Steward,
    api: httpx.Client,
    anonymous: httpx.Client,
    deployed: Deployed,
    sign_in: SignIn,
) -> None:
    create_user(steward, SYSTEM, "vic", "viewer")
    assert sign_in(anonymous, issue_token(steward, SYSTEM, "vic", "test")).status_code == 303
    page = anonymous.get(f"/deployments/{deployed.canary}")
    assert page.status_code == 200
    assert '<form method="post" action="/deployments' not in page.text
    assert "Roll back to revision" not in page.text
    assert "needs the <code>deployment.write</code> permission" in page.text
    for action, field in (("traffic", {"traffic": "50"}), ("rollback", {"revision": "1"})):
        refused = anonymous.post(
            f"/deployments/{deployed.canary}/{action}", data=field, headers=origin_of(anonymous)
        )
        assert refused.status_code == 403 and "Not allowed" in refused.text
    assert len(revisions_of(api, deployed.canary)) == 2


def test_cross_site_posts_are_refused(
    api: httpx.Client, browser_session: httpx.Client, deployed: Deployed
) -> None:
    url = f"/deployments/{deployed.canary}/traffic"
    own = str(browser_session.base_url).rstrip("/")
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/deployments"},
        {"Origin": own.replace("127.0.0.1", "localhost")},
        {},  # neither Origin nor Referer
    ):
        refused = browser_session.post(url, data={"traffic": "50"}, headers=headers)
        assert refused.status_code == 403, headers
        assert "was not sent from a modelsteward page" in refused.text
    assert len(revisions_of(api, deployed.canary)) == 2
    accepted = browser_session.post(
        url, data={"traffic": "50"}, headers={"Referer": f"{own}/deployments/{deployed.canary}"}
    )
    assert accepted.status_code == 303


def test_signed_out_posts_go_to_the_login_page(anonymous: httpx.Client, deployed: Deployed) -> None:
    response = anonymous.post(
        f"/deployments/{deployed.canary}/traffic",
        data={"traffic": "50"},
        headers=origin_of(anonymous),
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_model_page_says_where_the_model_is_deployed(
    browser_session: httpx.Client, deployed: Deployed, seeded: Inventory
) -> None:
    html = browser_session.get(f"/models/{deployed.model}").text
    section = re.search(r'<section class="card model-deployments".*?</section>', html, re.S)
    assert section is not None
    assert f'href="/deployments/{deployed.canary}"' in section.group()
    assert "production" in section.group() and "v3 challenger 20%" in section.group()
    assert deployed.staging not in section.group()
    other = browser_session.get(f"/models/{seeded.xss}").text
    assert "Not deployed anywhere." in other


def test_an_unknown_deployment_is_an_html_404(browser_session: httpx.Client) -> None:
    response = browser_session.get("/deployments/no-such-deployment")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "no-such-deployment" in response.text


def test_every_post_that_rides_on_the_session_cookie_checks_the_origin(steward: Steward) -> None:
    routes, posts = list(create_app(steward).routes), []
    while routes:
        route = routes.pop()
        nested = getattr(route, "original_router", None)
        routes.extend(nested.routes if nested is not None else [])
        if isinstance(route, APIRoute) and "POST" in route.methods:
            calls = [d.call for d in route.dependant.dependencies]
            if any(isinstance(c, Policy) and c.cookie for c in calls):
                posts.append((route.path, calls))
    paths = {path for path, _ in posts}
    assert paths >= {"/deployments/{name}/traffic", "/deployments/{name}/rollback"}
    for path, calls in posts:
        assert same_origin in calls, path


def test_a_version_serving_by_override_is_marked_outside_its_life_cycle(
    api: httpx.Client, browser_session: httpx.Client, skops_file: Path
) -> None:
    """Governed (every model follows ``standard``): a registered version serves in
    production only by override, and every page that shows it says so."""
    assert api.post("/api/v1/models", json={"name": "churn"}).status_code == 201
    registered = api.post(
        "/api/v1/models/churn/versions",
        data=version_form(sklearn_spec()),
        files=[upload(skops_file)],
    )
    assert registered.status_code == 201, registered.text
    body = {"model": "churn", "version": 1, "environment": "production"}
    assert api.post("/api/v1/deployments", json=body).status_code == 409
    forced = api.post("/api/v1/deployments", json={**body, "override": "outage drill"})
    assert forced.status_code == 202, forced.text
    assert wait_for_revision(api, forced.json())["status"] == "applied"

    page = browser_session.get("/deployments/churn-production").text
    notice = re.search(r'<p class="notice notice-warn outside-lifecycle".*?</p>', page, re.S)
    assert notice is not None
    assert "v1 (champion) is serving outside its life cycle." in notice.group()
    assert "state &#39;registered&#39;" in notice.group()
    assert "override: outage drill" in page  # the revision's reason, in the history
    model_page = browser_session.get("/models/churn").text
    section = re.search(r'<section class="card model-deployments".*?</section>', model_page, re.S)
    assert section is not None and "v1 serving outside its life cycle" in section.group()
    assert "v1 serving outside its life cycle" in browser_session.get("/deployments").text
