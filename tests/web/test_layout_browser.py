"""Every page at a desktop width (1280x800) and a phone's (390x844), in a real Chromium.

The layout facts are measured in the browser: nothing in the top bar reaches past the
viewport, no chart leaves its card, life cycle diagrams keep a readable size and scroll
sideways, the inbox's Approve button is on screen, long metric names stay inside their
card, drift cards put a p-value beside the p-value's threshold, and a version's ~100
pinned packages are folded away. Screenshots of every page at both widths go to
``$STEWARD_SCREENSHOTS`` (default: the test's temporary folder): look at them.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sklearn.linear_model import LogisticRegression
from tests.web.conftest import ADMIN, Deployed, add_version
from tests.web.test_monitoring_browser import applications

from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM, Principal, create_user
from modelsteward.lifecycle.reading import version_lifecycle
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.transitions import transition
from modelsteward.lifecycle.views import RuleSpec
from modelsteward.monitoring.service import list_monitors, run_now
from modelsteward.monitoring.windows import read_window
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec
from modelsteward.sdk.client import Client

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

WIDTHS = [(1280, 800), (390, 844)]
SCORED = "risk-score-production"
LONG_METRIC = "fairness.demographic_parity_difference.sex"
GOVERNED = "loan-default"


def _wait_logged(steward: Steward, rows: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        window = read_window(steward.settings.logs_url, SCORED, now=datetime.now(UTC), last=rows)
        if window.rows >= rows:
            return
        time.sleep(0.2)
    raise AssertionError("the prediction log was not flushed")


def _scored_model(steward: Steward, server: str, token: str) -> None:
    """Two SDK versions (so ~100 captured packages and a long metric name), deployed,
    drifted traffic logged and every monitor run once."""
    training = applications(800, seed=1)  # <= 1 000 rows: KS, a test with a p-value
    labels = (training["income"] - 50 * training["debt_ratio"] > 40).astype(int)
    with Client(server, token) as client:
        for number, c in enumerate((1.0, 0.3), start=1):
            model = LogisticRegression(C=c, max_iter=300).fit(training, labels)
            client.register(
                model,
                name="risk-score",
                sample=training.head(20),
                training_data=training,
                metrics={"auc": 0.8 + number / 100, LONG_METRIC: 0.01 * number},
            )
        client.deploy("risk-score", 1)
        shifted = applications(200, seed=2, shift=1.0)
        for start in range(0, 200, 20):
            client.predict(SCORED, shifted.iloc[start : start + 20])
    _wait_logged(steward, 200)
    for monitor in list_monitors(steward, SCORED):
        run_now(steward, monitor.id)


def _open_task(steward: Steward, skops_file: Path) -> None:
    """A model on the ``standard`` life cycle whose version waits for a risk manager."""
    put_rules(steward, ADMIN, [RuleSpec(priority=1, definition="standard", tag="layout=gated")])
    create_model(
        steward,
        ADMIN,
        ModelSpec(
            name=GOVERNED, description="Loan default.", owner="admin", tags={"layout": "gated"}
        ),
    )
    blob = steward.artifacts.put_file(skops_file)
    schema = {"columns": [{"name": "age", "type": "float", "dtype": "float64"}]}
    add_version(
        steward,
        GOVERNED,
        blob,
        description="First candidate.",
        input_schema=schema,
        metrics={"auc": 0.91},
        tests=[{"name": "auc-floor", "type": "metric_min", "metric": "auc", "threshold": 0.8}],
    )
    create_user(steward, SYSTEM, "dana", "data-scientist")
    dana = Principal("dana", "data-scientist")
    for name in ("validate", "approve"):
        instance = version_lifecycle(steward, GOVERNED, 1)
        outcome = transition(steward, instance.id, name, dana, instance.revision)
        assert outcome.outcome in ("applied", "waiting"), outcome
    assert version_lifecycle(steward, GOVERNED, 1).open_tasks


@pytest.fixture
def site(
    deployed: Deployed,
    steward: Steward,
    server: str,
    admin_token: str,
    skops_file: Path,
    api: httpx.Client,
) -> list[str]:
    """The seeded inventory and deployments, a monitored model, an open task: the pages."""
    _scored_model(steward, server, admin_token)
    _open_task(steward, skops_file)
    return [
        "/",
        "/models/credit-risk",
        "/models/risk-score",
        f"/models/{GOVERNED}/versions/1/lifecycle",
        "/deployments",
        f"/deployments/{deployed.canary}",
        f"/deployments/{SCORED}/monitoring",
        "/lifecycles",
        "/lifecycles/regulated",
        "/tasks",
    ]


# Measured in the page: each returns a list of problems, empty when the layout holds.
HEADER_FITS = """() => {
  const bar = document.querySelector('header.topbar').getBoundingClientRect();
  const out = [];
  if (document.documentElement.scrollWidth > innerWidth)
    out.push('page is ' + document.documentElement.scrollWidth + ' px wide');
  for (const e of document.querySelectorAll('header.topbar a, header.topbar button, header.topbar span')) {
    const r = e.getBoundingClientRect();
    if (!r.width) continue;
    const scroller = e.closest('.mainnav');
    const right = scroller ? Math.min(r.right, scroller.getBoundingClientRect().right) : r.right;
    if (right > innerWidth + 0.5 || r.left < -0.5 || r.bottom > bar.bottom + 0.5)
      out.push(e.textContent.trim() + ' outside the bar');
  }
  return out;
}"""
CHARTS_INSIDE = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('figure svg')) {
    const card = svg.closest('figure').getBoundingClientRect(), r = svg.getBoundingClientRect();
    if (r.left < card.left - 0.5 || r.right > card.right + 0.5)
      out.push((svg.getAttribute('aria-label') || 'a chart') + ' leaves its card');
  }
  for (const caption of document.querySelectorAll('figure figcaption > *')) {
    const card = caption.closest('figure').getBoundingClientRect(), r = caption.getBoundingClientRect();
    if (r.width && (r.right > card.right + 0.5 || r.left < card.left - 0.5))
      out.push(caption.textContent.trim() + ' overlaps the next card');
  }
  return out;
}"""
DIAGRAMS_READABLE = """() => [...document.querySelectorAll('svg.mlc-graph')].map(svg => {
  const drawn = parseFloat(svg.getAttribute('width')), shown = svg.getBoundingClientRect().width;
  const box = svg.closest('.mlc');
  return {scale: shown / drawn, scrolls: box.scrollWidth > box.clientWidth,
          fits: box.getBoundingClientRect().right <= innerWidth + 0.5};
})"""


def _signed_in(browser: Browser, server: str, token: str, width: int, height: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(server + "/login")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in with token").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


def _shot_name(path: str, width: int) -> str:
    return (path.strip("/").replace("/", "_") or "inventory") + f"-{width}.png"


def test_every_page_fits_a_desktop_and_a_phone_screen(
    browser: Browser, server: str, site: list[str], admin_token: str, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    for width, height in WIDTHS:
        page = _signed_in(browser, server, admin_token, width, height)
        problems: list[str] = []
        page.on("pageerror", lambda exc, seen=problems: seen.append(str(exc)))
        for path in site:
            page.goto(server + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=screenshots / _shot_name(path, width), full_page=True)
            found: list[Any] = page.evaluate(HEADER_FITS) + page.evaluate(CHARTS_INSIDE)
            assert not found, (width, path, found)
            for diagram in page.evaluate(DIAGRAMS_READABLE):
                assert diagram["fits"], (width, path, diagram)
                if width < 900:  # drawn at full size, the box scrolls sideways
                    assert diagram["scale"] == pytest.approx(1.0, abs=0.01), (path, diagram)
        page.goto(server + "/tasks")
        approve = page.locator(f"tr:has-text('{GOVERNED} v1')").get_by_role(
            "button", name="Approve"
        )
        approve.scroll_into_view_if_needed()
        box = approve.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        expect(approve).to_be_in_viewport()
        assert not problems, problems
        page.context.close()


def test_the_model_and_monitoring_pages_read_truly(
    browser: Browser, server: str, site: list[str], admin_token: str, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = _signed_in(browser, server, admin_token, 1280, 800)
    page.goto(server + "/models/risk-score")
    packages = page.locator("details.dependencies")
    expect(packages).to_have_count(1)
    expect(packages).not_to_have_attribute("open", "")
    expect(packages.locator("summary")).to_have_text(re.compile(r"^\d+ pinned packages$"))
    expect(page.locator("svg.metric-chart").first).to_be_visible()
    expect(page.locator("figure.chart", has_text=LONG_METRIC)).to_have_count(1)

    page.goto(f"{server}/deployments/{SCORED}/monitoring")
    drift = page.locator("#feature-drift")
    lede = drift.locator("p.lede").inner_text()
    shown = re.search(r"last (\d+) predictions", lede)
    assert shown, lede
    expect(drift.locator(".card-note")).to_contain_text(f"the last {shown.group(1)} predictions")
    captions = drift.locator("figure .sub").all_inner_texts()
    assert any("p = " in caption for caption in captions), captions
    for caption in captions:
        # a test compares its p-value with the threshold; a distance its statistic
        assert re.fullmatch(
            r"\S+ [\d.e+-]+ · p = [\d.e+-]+ \(drift when p < [\d.]+\)", caption
        ) or (
            re.fullmatch(r"\S+ [\d.e+-]+ \(threshold [\d.]+\)", caption) and "p =" not in caption
        ), caption
    page.screenshot(path=screenshots / "monitoring-drift-1280.png", full_page=True)
