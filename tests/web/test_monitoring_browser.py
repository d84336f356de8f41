"""Monitoring in a real headless Chromium: drifted traffic, monitors run from the page, drawn.

A model registered with its training data through the SDK is deployed; applications
arrive with two features shifted; an operator opens the deployment's monitoring page,
runs every monitor, and sees the drift breach named at the top, each metric drawn with
its threshold, and each feature's training distribution against the new traffic.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from modelsteward.context import Steward
from modelsteward.monitoring.windows import read_window
from modelsteward.sdk.client import Client

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Models here follow no life cycle, so deployments are not gated (see serving/test_admission.py).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ungoverned")]

FEATURES = ["age", "income", "debt_ratio", "open_accounts"]
DEPLOYMENT = "risk-score-production"


def applications(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(45, 12, rows),
            "income": rng.normal(52 - 20 * shift, 9, rows),
            "debt_ratio": rng.beta(2, 5, rows) + 0.4 * shift,
            "open_accounts": rng.poisson(4, rows).astype(float),
        }
    )


def _logged(steward: Steward, rows: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = datetime.now(UTC)
        if read_window(steward.settings.logs_url, DEPLOYMENT, now=now, last=rows).rows >= rows:
            return
        time.sleep(0.2)
    raise AssertionError("the prediction log was not flushed")


def test_an_operator_sees_drift_drawn_after_running_the_monitors(
    browser: Browser, server: str, steward: Steward, admin_token: str, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    training = applications(2_000, seed=1)
    labels = (training["income"] - 50 * training["debt_ratio"] > 40).astype(int)
    model = LogisticRegression(max_iter=300).fit(training, labels)
    with Client(server, admin_token) as client:
        client.register(model, name="risk-score", sample=training.head(20), training_data=training)
        client.deploy("risk-score", 1)
        shifted = applications(300, seed=2, shift=1.0)
        for start in range(0, 300, 10):
            client.predict(DEPLOYMENT, shifted.iloc[start : start + 10])
    _logged(steward, 30)

    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(server + "/login")
    page.get_by_label("API token").fill(admin_token)
    page.get_by_role("button", name="Sign in with token").click()
    page.goto(f"{server}/deployments/{DEPLOYMENT}")
    page.locator("#monitoring-link").click()
    # the seven defaults, and estimated performance: the model answers with classes
    expect(page.locator("#monitor-rows tbody tr")).to_have_count(8)
    expect(page.locator("#monitor-rows")).to_contain_text("not yet")

    page.get_by_role("button", name="Run all monitors now").click()
    expect(page.locator("#flash")).to_contain_text("Ran 8 monitor(s)")
    expect(page.locator("#breached")).to_contain_text("drift_score · income")
    expect(page.locator("#breached")).to_contain_text("drift_score · debt_ratio")
    expect(page.locator("#breached")).not_to_contain_text("drift_score · age")
    breached = page.locator("figure.monitor-figure.is-breached svg.monitor-chart")
    expect(breached.first).to_be_visible()
    expect(page.locator("svg.monitor-chart .monitor-threshold").first).to_be_attached()
    overlays = page.locator("#feature-drift figure")
    expect(overlays).to_have_count(4)
    expect(overlays.filter(has_text="income").locator(".status")).to_have_text("drift")
    expect(overlays.filter(has_text="age").locator(".status")).to_have_text("ok")
    page.screenshot(path=screenshots / "monitoring.png", full_page=True)

    page.goto(f"{server}/models/risk-score")
    expect(page.locator("section.model-monitoring svg.monitor-chart")).to_have_count(3)
    expect(page.locator("section.model-monitoring")).to_contain_text("breached")
    assert not problems, problems
