"""Seed a real inventory through the service functions, sign in to the web UI, drive Chromium."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from tests.helpers import own_origin, people
from tests.web.deploying import deploy

from modelsteward.context import Steward
from modelsteward.identity.users import Principal
from modelsteward.registry.aliases import set_alias
from modelsteward.registry.models import create_model, set_model_status
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version
from modelsteward.registry.views import VersionView
from modelsteward.store.artifacts import StoredBlob

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ADMIN = Principal("admin", "admin")
XSS = "<script>alert('pwned')</script>"
FEATURES = ["age", "income", "debt_ratio", "open_accounts"]


@pytest.fixture(scope="session")
def skops_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small fitted scikit-learn model in the skops format (no pickle).

    It is fitted on a frame with the ``FEATURES`` columns, so it can be served: rows sent
    to a deployment arrive as a frame with those names.
    """
    import numpy as np
    import pandas as pd
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    x = pd.DataFrame(rng.normal(size=(60, len(FEATURES))), columns=FEATURES)
    y = (x["age"] + x["income"] > 0).astype(int)
    path = tmp_path_factory.mktemp("model") / "model.skops"
    sio.dump(LogisticRegression().fit(x, y), path)
    return path


def add_version(steward: Steward, model: str, blob: StoredBlob, **spec: Any) -> VersionView:
    """Register an sklearn version whose model file is already in the artifact store."""
    body = {"flavor": "sklearn", "files": [{"role": "model", "name": "model.skops"}], **spec}
    return register_version(
        steward, ADMIN, model, VersionSpec.model_validate(body), {"model.skops": blob}
    )


def _schema(names: list[str], kind: str) -> dict[str, Any]:
    return {"columns": [{"name": n, "type": kind, "dtype": "float64"} for n in names]}


@dataclass(frozen=True)
class Inventory:
    """What ``seeded`` put in: names the tests look for."""

    flagship: str = "credit-risk"
    xss: str = "churn-scorer"
    archived: str = "legacy-fraud"
    others: tuple[str, ...] = ("fraud-detector", "demand-forecast")
    xss_text: str = XSS


def seed_inventory(steward: Steward, skops_file: Path, *, hostile: bool = True) -> Inventory:
    """Five models with owners, tiers, tags, aliases; one with three versions and lineage.

    ``hostile`` puts a script tag in one description and version, to prove it is escaped.
    """
    names = Inventory(xss_text=XSS if hostile else "")
    churn = f"Predicts churn {XSS}" if hostile else "Predicts 90-day churn of subscribers."
    blob = steward.artifacts.put_file(skops_file)
    specs = [
        ModelSpec(
            name=names.flagship,
            description="Probability of default for retail loan applications.",
            owner="maria.lopez",
            team="credit-analytics",
            use_case="Approve or refer consumer loan applications",
            risk_tier="high",
            tags={"domain": "lending", "regulated": "yes"},
        ),
        ModelSpec(
            name=names.xss,
            description=churn,
            owner="sam.chen",
            team="growth",
            risk_tier="medium",
            tags={"domain": "marketing"},
        ),
        ModelSpec(
            name="fraud-detector",
            description="Card-not-present fraud scoring.",
            owner="maria.lopez",
            team="fraud",
            risk_tier="critical",
            tags={"domain": "payments", "regulated": "yes"},
        ),
        ModelSpec(
            name="demand-forecast",
            description="Weekly SKU demand.",
            owner="li.wang",
            team="supply-chain",
            risk_tier="low",
        ),
        ModelSpec(name=names.archived, owner="sam.chen", team="fraud", risk_tier="high"),
    ]
    people(steward, *{spec.owner for spec in specs if spec.owner})
    for spec in specs:
        create_model(steward, ADMIN, spec)
    common = {
        "input_schema": _schema(FEATURES, "float"),
        "output_schema": {"columns": [{"name": "default_probability", "type": "float"}]},
        "code": {
            "repository": "git+https://git.example.com/credit/pd-model.git",
            "commit": "3f9c2a7e1b",
            "entry_point": "train.py",
        },
        "dependencies": {"python": "3.11", "packages": {"scikit-learn": "1.5.2"}},
    }
    history = [
        ({"auc": 0.812, "ks": 0.41, "brier": 0.171}, None, "2024q4", {"C": 1.0}),
        ({"auc": 0.846, "ks": 0.47, "brier": 0.158}, 1, "2025q1", {"C": 0.5}),
        ({"auc": 0.861, "ks": 0.49, "brier": 0.151}, 2, "2025q2", {"C": 0.25}),
    ]
    for number, (metrics, parent, quarter, params) in enumerate(history, start=1):
        add_version(
            steward,
            names.flagship,
            blob,
            description=f"Retrained on {quarter} applications.",
            metrics=metrics,
            params={**params, "solver": "lbfgs"},
            training_data={
                "uri": f"s3://lake/credit/applications/{quarter}.parquet",
                "rows": 120_000 + 5_000 * number,
                "columns": FEATURES,
            },
            lineage={
                "parent_version": parent,
                "datasets": ["s3://lake/credit/bureau/scores.parquet"],
                "run": f"runs/pd-train-{number:03d}",
            },
            **common,
        )
    set_alias(steward, ADMIN, names.flagship, "champion", 2)
    set_alias(steward, ADMIN, names.flagship, "challenger", 3)
    set_alias(steward, ADMIN, names.flagship, "champion", 3)
    add_version(steward, names.xss, blob, metrics={"auc": 0.77}, description=XSS if hostile else "")
    set_alias(steward, ADMIN, names.xss, "champion", 1)
    add_version(steward, "fraud-detector", blob, metrics={"recall": 0.66})
    set_model_status(steward, ADMIN, names.archived, "archived")
    return names


@pytest.fixture
def seeded(steward: Steward, skops_file: Path) -> Inventory:
    return seed_inventory(steward, skops_file)


SHOWCASE = [
    (
        "aml-screening",
        "Flags transactions for anti-money-laundering review.",
        "critical",
        "ines.moreau",
        "financial-crime",
        {"domain": "compliance", "regulated": "yes"},
    ),
    (
        "claims-triage",
        "Routes insurance claims to fast-track or adjuster review.",
        "medium",
        "tom.okafor",
        "claims",
        {"domain": "insurance"},
    ),
    (
        "price-elasticity",
        "Estimates demand response to price changes per category.",
        "low",
        "li.wang",
        "pricing",
        {"domain": "retail"},
    ),
]


@pytest.fixture
def showcase(steward: Steward, skops_file: Path) -> Inventory:
    """The seeded inventory without hostile text, plus a few more models: for screenshots."""
    names = seed_inventory(steward, skops_file, hostile=False)
    blob = steward.artifacts.put_file(skops_file)
    people(steward, *{row[3] for row in SHOWCASE})
    for name, description, tier, owner, team, tags in SHOWCASE:
        spec = ModelSpec(
            name=name, description=description, risk_tier=tier, owner=owner, team=team, tags=tags
        )
        create_model(steward, ADMIN, spec)
        add_version(steward, name, blob, metrics={"auc": 0.8})
        set_alias(steward, ADMIN, name, "champion", 1)
    return names


def _version_view(number: int, **fields: Any) -> VersionView:
    base: dict[str, Any] = {
        "model": "m",
        "version": number,
        "flavor": "sklearn",
        "status": "active",
        "description": "",
        "files": [],
        "input_schema": None,
        "output_schema": None,
        "training_data": None,
        "code": None,
        "dependencies": {},
        "params": {},
        "metrics": {},
        "metadata": {},
        "lineage": {},
        "tests": [],
        "tags": {},
        "trust": None,
        "aliases": [],
        "content_hash": "0" * 64,
        "created_by": "admin",
        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
    }
    return VersionView.model_validate({**base, **fields})


MakeVersion = Callable[..., VersionView]


@pytest.fixture
def make_version() -> MakeVersion:
    """A version view as the registry returns it, for testing drawings without a database."""
    return _version_view


@pytest.fixture
def anonymous(server: str) -> Iterator[httpx.Client]:
    """A browser-like client with no session: redirects are not followed."""
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


SignIn = Callable[[httpx.Client, str], httpx.Response]


def _sign_in(client: httpx.Client, token: str) -> httpx.Response:
    return client.post(
        "/login",
        data={"method": "token", "token": token, "next": "/"},
        headers=own_origin(client),
    )


@pytest.fixture
def sign_in() -> SignIn:
    """Sign a client in through the login form with an API token."""
    return _sign_in


@pytest.fixture
def admin_token(steward: Steward) -> str:
    return steward.settings.admin_token_path.read_text().strip()


@pytest.fixture
def browser_session(admin_token: str, server: str) -> Iterator[httpx.Client]:
    """A client signed in to the web UI as the bootstrap admin (session cookie set)."""
    with httpx.Client(base_url=server, timeout=30) as client:
        assert _sign_in(client, admin_token).status_code == 303
        yield client


@dataclass(frozen=True)
class Deployed:
    """What ``deployed`` set up: a canary in production and a direct deployment in staging."""

    canary: str = "credit-risk-production"
    staging: str = "fraud-detector-staging"
    model: str = "credit-risk"


@pytest.fixture
def deployed(ungoverned: Steward, api: httpx.Client, seeded: Inventory) -> Deployed:
    """credit-risk v2 in production (r1), then v3 as a 20% canary (r2); fraud-detector in staging.

    The models follow no life cycle (``ungoverned``), so nothing gates these deployments.
    """
    names = Deployed()
    assert deploy(api, names.model, 2, "production")["status"] == "applied"
    assert deploy(api, names.model, 3, "production", strategy="canary", traffic=20)["status"] == (
        "applied"
    )
    assert deploy(api, "fraud-detector", 1, "staging")["status"] == "applied"
    return names


# A real headless Chromium for the browser tests (marked ``browser``).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run 'make test-deps' (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("STEWARD_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
