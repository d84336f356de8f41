"""The web UI in a real headless Chromium: sign in, filter with HTMX, read a model page.

Screenshots go to ``$STEWARD_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from tests.web.conftest import Inventory

pytestmark = pytest.mark.browser


def test_sign_in_filter_the_inventory_and_read_a_model(
    browser: Browser, server: str, showcase: Inventory, admin_token: str, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(server + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("API token").fill(admin_token)
    page.get_by_role("button", name="Sign in with token").click()
    expect(page.get_by_role("heading", name="Model inventory")).to_be_visible()
    rows = page.locator("#model-rows tr")
    expect(rows).to_have_count(7)
    expect(page.locator("header")).to_contain_text("admin")
    page.screenshot(path=screenshots / "inventory.png", full_page=True)

    with page.expect_request(re.compile(r"/inventory/rows\?.*q=fraud")):
        page.get_by_label("Search").press_sequentially("fraud", delay=40)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("fraud-detector")
    expect(page).to_have_url(re.compile(r"/\?q=fraud$"))
    page.get_by_label("Risk tier").select_option("critical")
    expect(rows).to_have_count(1)
    page.get_by_label("Risk tier").select_option("low")
    expect(page.locator("#model-rows")).to_contain_text("No models match these filters.")

    page.goto(server + "/")
    page.get_by_role("link", name=showcase.flagship, exact=True).click()
    expect(page.get_by_role("heading", name=showcase.flagship)).to_be_visible()
    lineage = page.locator("svg.lineage-graph")
    expect(lineage).to_be_visible()
    expect(lineage.locator(".lineage-version")).to_have_count(3)
    expect(page.locator("svg.metric-chart")).to_have_count(3)
    expect(page.locator("#version-detail h2")).to_contain_text("Version 3")

    page.locator(".versions-table").get_by_role("link", name="v1", exact=True).click()
    expect(page.locator("#version-detail h2")).to_contain_text("Version 1")
    expect(page).to_have_url(re.compile(rf"/models/{showcase.flagship}/versions/1$"))
    page.locator(".versions-table").get_by_role("link", name="v3", exact=True).click()
    expect(page.locator("#version-detail h2")).to_contain_text("Version 3")
    page.screenshot(path=screenshots / "model.png", full_page=True)

    assert not problems, problems
