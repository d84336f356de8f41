"""Life cycles in a real headless Chromium: a version moved, approved from the inbox, drawn.

A data scientist asks for ``validate`` and ``approve`` on the version's life cycle page;
a risk manager approves from the Tasks inbox; the page then draws the version in
``approved`` with the path it took. A page read before a move refuses a second,
stale move in words. Screenshots go to ``$STEWARD_SCREENSHOTS``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.web.conftest import ADMIN, add_version

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM, create_user, issue_token
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

MODEL = "loan-default"


def _register(steward: Steward, skops_file: Path) -> None:
    create_model(
        steward,
        ADMIN,
        ModelSpec(
            name=MODEL, description="Predicts loan default.", team="lending-ml", owner="admin"
        ),
    )
    blob = steward.artifacts.put_file(skops_file)
    schema = {"columns": [{"name": "age", "type": "float", "dtype": "float64"}]}
    add_version(
        steward,
        MODEL,
        blob,
        description="First candidate.",
        input_schema=schema,
        metrics={"auc": 0.91},
        tests=[{"name": "auc-floor", "type": "metric_min", "metric": "auc", "threshold": 0.8}],
    )


def _signed_in(browser: Browser, server: str, token: str) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    page.goto(server + "/login")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in with token").click()
    return page


def test_a_version_walks_its_life_cycle_through_the_pages(
    browser: Browser, server: str, steward: Steward, skops_file: Path, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    _register(steward, skops_file)
    create_user(steward, SYSTEM, "dana", "data-scientist")
    create_user(steward, SYSTEM, "rita", "risk-manager")
    dana = _signed_in(browser, server, issue_token(steward, SYSTEM, "dana", "ui"))
    rita = _signed_in(browser, server, issue_token(steward, SYSTEM, "rita", "ui"))
    problems: list[str] = []
    for page in (dana, rita):
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))

    dana.goto(f"{server}/models/{MODEL}/versions/1")
    expect(dana.locator("#lifecycle-link")).to_have_text("registered")
    dana.locator("#lifecycle-link").click()
    expect(dana.locator("#current-state")).to_have_text("registered")
    expect(dana.locator('svg.mlc-graph g.is-current[data-state="registered"]')).to_have_count(1)
    stale = dana.context.new_page()
    stale.goto(dana.url)  # read now, used after the move below

    dana.get_by_role("button", name="Request validate").click()
    expect(dana.locator("#flash")).to_contain_text("validate: applied")
    expect(dana.locator("#current-state")).to_have_text("validated")
    expect(dana.locator(".mlc-timeline")).to_contain_text("tests_pass")

    stale.get_by_role("button", name="Request validate").click()
    expect(stale.locator("#form-error")).to_contain_text("changed since you read it")
    expect(stale.locator("#current-state")).to_have_text("validated")

    dana.get_by_role("button", name="Request approve").click()
    expect(dana.locator("#flash")).to_contain_text("waits for approval")
    expect(dana.locator(".mlc-task")).to_contain_text("0 of 1 approvals by risk-manager")
    expect(dana.locator(".decision-form")).to_have_count(0)  # not dana's role

    rita.goto(server + "/tasks")
    row = rita.locator("tr", has_text=f"{MODEL} v1")
    expect(row).to_contain_text("approve")
    rita.screenshot(path=screenshots / "tasks.png", full_page=True)
    row.get_by_label(re.compile("Comment on task")).fill("Back-test reviewed.")
    row.get_by_role("button", name="Approve").click()
    expect(rita.locator("#flash")).to_contain_text("approved")
    expect(rita.locator("tr", has_text=f"{MODEL} v1")).to_have_count(0)

    dana.reload()
    expect(dana.locator("#current-state")).to_have_text("approved")
    expect(dana.locator("#flash")).to_have_count(0)  # the old notice is not repeated
    drawing = dana.locator("svg.mlc-graph")
    expect(drawing.locator('g.is-current[data-state="approved"]')).to_have_count(1)
    expect(drawing.locator("g.mlc-transition.is-taken")).to_have_count(2)
    expect(dana.locator(".mlc-timeline")).to_contain_text("approve: validated → approved")
    expect(dana.locator(".mlc-timeline")).to_contain_text("rita")
    dana.screenshot(path=screenshots / "version-lifecycle.png", full_page=True)

    dana.goto(server + "/lifecycles")
    expect(dana.locator("svg.mlc-graph")).to_have_count(4)
    dana.get_by_role("link", name="regulated", exact=True).click()
    expect(dana.locator(".source-block")).to_contain_text("escalate_to: admin")
    assert not problems, problems
