"""A deployment page in a real headless Chromium: live charts, a traffic change, history.

Screenshots go to ``$STEWARD_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from tests.helpers import sklearn_spec, upload, version_form
from tests.web.deploying import ROW, backfill_traffic, deploy, send_predictions

from modelsteward.context import Steward

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from tests.web.conftest import Inventory

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ungoverned")]

PRODUCTION = "credit-risk-production"
STAGING = "credit-risk-staging"


def register(api: httpx.Client, model: str, skops_file: Path, columns: list[str]) -> None:
    schema = {"columns": [{"name": c, "type": "float", "dtype": "float64"} for c in columns]}
    response = api.post(
        f"/api/v1/models/{model}/versions",
        data=version_form(sklearn_spec(input_schema=schema, description="Retrained.")),
        files=[upload(skops_file)],
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def live_deployments(
    steward: Steward, api: httpx.Client, showcase: Inventory, skops_file: Path
) -> None:
    """Production: v2 with v3 as a 10% canary, a failed v4 rollout and an hour of traffic.
    Staging: v3 with v5 as a shadow."""
    model, features = showcase.flagship, list(ROW)
    register(api, model, skops_file, features[:2])  # v4: its smoke test will fail
    register(api, model, skops_file, features)  # v5
    assert deploy(api, model, 2, "production")["status"] == "applied"
    assert deploy(api, model, 3, "production", strategy="canary", traffic=10)["status"] == "applied"
    assert deploy(api, model, 4, "production", strategy="canary")["status"] == "rolled_back"
    assert deploy(api, model, 3, "staging")["status"] == "applied"
    assert deploy(api, model, 5, "staging", strategy="shadow")["status"] == "applied"
    backfill_traffic(steward.settings.logs_url, PRODUCTION, model, {2: "champion", 3: "challenger"})
    send_predictions(api, PRODUCTION, 30)


def test_watch_a_canary_and_shift_its_traffic(
    browser: Browser,
    server: str,
    admin_token: str,
    showcase: Inventory,
    live_deployments: None,
    screenshots: Path,
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(server + "/deployments")
    page.get_by_label("API token").fill(admin_token)
    page.get_by_role("button", name="Sign in with token").click()
    expect(page.get_by_role("heading", name="Deployments")).to_be_visible()
    rows = page.locator("#deployment-rows tr")
    expect(rows).to_have_count(2)
    page.get_by_role("link", name=re.compile(r"^staging")).click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("v5 shadow")
    page.get_by_role("link", name=re.compile(r"^All environments")).click()
    expect(rows).to_have_count(2)
    page.screenshot(path=screenshots / "deployments.png", full_page=True)

    page.get_by_role("link", name=PRODUCTION).click()
    expect(page.get_by_role("heading", name=PRODUCTION)).to_be_visible()
    split = page.locator("svg.traffic-split")
    expect(split).to_contain_text("v2 champion 90%")
    expect(split).to_contain_text("v3 challenger 10%")
    expect(page.locator("svg.live-chart")).to_have_count(3)
    expect(page.locator("#revision-3 .step-failed")).to_contain_text("smoke")
    expect(page.locator("#revision-3 .step-rollback")).to_be_visible()

    page.get_by_label(re.compile("Share of v3")).fill("25")
    page.get_by_role("button", name="Set traffic").click()
    expect(page.locator("#flash")).to_contain_text("Revision 4 (challenger traffic 25%)")
    # The live section polls every 5 s and reloads the page once revision 4 is serving.
    expect(split).to_contain_text("v3 challenger 25%", timeout=20_000)
    expect(page.locator("#revision-4 .badge")).to_have_text("serving")
    with page.expect_response(re.compile(r"/deployments/.+/live\?seen="), timeout=10_000):
        pass
    expect(page.locator("#live dd").first).not_to_have_text("0")
    page.screenshot(path=screenshots / "deployment.png", full_page=True)

    page.get_by_role("link", name=showcase.flagship, exact=True).first.click()
    deployed_in = page.locator("section.model-deployments")
    expect(deployed_in).to_contain_text(PRODUCTION)
    expect(deployed_in).to_contain_text("v5 shadow")
    page.screenshot(path=screenshots / "model-deployed.png")

    page.get_by_role("link", name=STAGING).click()
    expect(page.locator("svg.traffic-split .split-shadow")).to_have_count(1)
    expect(page.locator("svg.traffic-split")).to_contain_text("v5 shadow")
    expect(page.get_by_role("button", name="Set traffic")).to_have_count(0)
    page.screenshot(path=screenshots / "deployment-shadow.png", full_page=True)

    assert not problems, problems
