"""Seed the inventory with real example models trained on scikit-learn's bundled data.

Idempotent: models that already have versions are left alone. Registration goes
through the SDK against an in-process server, exactly as a data scientist would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.demo.credit import applicants, credit_versions
from modelsteward.demo.history import run_past_hours, write_history
from modelsteward.demo.lifecycles import (
    approve_standard,
    assign_lifecycles,
    seed_people,
    walk_regulated,
    walk_standard,
)
from modelsteward.identity.users import Principal
from modelsteward.monitoring.service import create_monitor, list_monitors, run_now
from modelsteward.monitoring.windows import read_window
from modelsteward.sdk.client import Client

Progress = Callable[[str], None]
TRAFFIC_ROWS = 300


@dataclass(frozen=True)
class Demo:
    """What each example needs: the SDK client, the instance, the demo people, progress."""

    client: Client
    steward: Steward
    people: dict[str, Principal]
    say: Progress


def _frame(loader: Callable[..., Any]) -> tuple[pd.DataFrame, pd.Series]:
    data = loader(as_frame=True)
    frame = data.frame.copy()
    frame.columns = [
        str(c).replace(" ", "_").replace("(", "").replace(")", "") for c in frame.columns
    ]
    target = frame.pop(frame.columns[-1])
    return frame, target


def _split(x: pd.DataFrame, y: pd.Series) -> tuple[Any, Any, Any, Any]:
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=0.3, random_state=7)


def _wait_serving(client: Client, deployment: str, timeout_s: float = 120.0) -> None:
    """Until the deployment's newest revision has rolled out (a life cycle action asked)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = client._call("GET", f"/api/v1/deployments/{deployment}")
        newest = max((r["revision"] for r in view["revisions"]), default=0)
        if view["applied_revision"] and view["applied_revision"] >= newest:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{deployment} did not roll out within {timeout_s:.0f} s")


def _roles(client: Client, model: str) -> str:
    """What the production routes say and what the registry says, read back, not assumed:
    e.g. "v1 champion 80%, v2 challenger 20% (registry: champion -> v1, challenger -> v2)"."""
    view = client._call("GET", f"/api/v1/deployments/{model}-production")
    routes = ", ".join(f"v{r['version']} {r['role']} {r['weight']}%" for r in view["routes"])
    aliases = client.get_model(model)["aliases"]
    named = ", ".join(f"{a} -> v{aliases[a]}" for a in ("champion", "challenger") if a in aliases)
    return f"{routes} (registry: {named})"


def _screening(demo: Demo) -> None:
    client, say = demo.client, demo.say
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, x_test, y_train, y_test = _split(*_frame(load_breast_cancer))
    common = dict(
        name="tumor-screening",
        sample=x_test,
        training_data=pd.concat([x_train, y_train], axis=1),
        training_data_uri="s3://clinical-data/breast-cancer/2026-10/train.parquet",
        owner="dana",
        team="Diagnostics",
        risk_tier="high",
        use_case="Flags biopsies for a second pathologist review.",
        description="Screens biopsy features for malignancy.",
        tags={"domain": "health", "regulated": "yes"},
    )
    candidates: list[tuple[Any, dict[str, Any]]] = [
        (make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), {"C": 1.0}),
        (GradientBoostingClassifier(random_state=7, n_estimators=80), {"n_estimators": 80}),
    ]
    for version, (model, params) in enumerate(candidates, start=1):
        model.fit(x_train, y_train)
        proba = model.predict_proba(x_test)[:, 1]
        client.register(
            model,
            params=params,
            metrics={
                "accuracy": accuracy_score(y_test, model.predict(x_test)),
                "auc": roc_auc_score(y_test, proba),
            },
            lineage={"parent_version": version - 1}
            if version > 1
            else {"datasets": [common["training_data_uri"]]},
            code={
                "repository": "https://git.example.com/clinical/screening",
                "commit": f"a1b2c3d{version}",
                "entry_point": "train.py",
            },
            tests=[{"name": "auc-floor", "type": "metric_min", "metric": "auc", "threshold": 0.95}],
            **common,
        )
        say(f"  registered tumor-screening v{version}")
    walk_standard(demo.steward, demo.people, "tumor-screening", say)
    _wait_serving(client, "tumor-screening-production")
    # v2 may take production traffic only once approved: production admits 'approved'.
    approve_standard(demo.steward, demo.people, "tumor-screening", 2)
    client.deploy("tumor-screening", 2, strategy="canary", traffic=20)
    _wait_serving(client, "tumor-screening-production")  # champion and challenger follow routes
    for start in range(0, 60, 3):
        client.predict("tumor-screening-production", x_test.iloc[start : start + 3])
    say(f"  tumor-screening v2 approved; deployed as a canary: {_roles(client, 'tumor-screening')}")


def _species(demo: Demo) -> None:
    client, say = demo.client, demo.say
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score

    x_train, x_test, y_train, y_test = _split(*_frame(load_iris))
    model = RandomForestClassifier(n_estimators=30, random_state=7).fit(x_train, y_train)
    client.register(
        model,
        name="iris-species",
        sample=x_test,
        training_data=x_train,
        owner="dana",
        team="Botany",
        risk_tier="low",
        description="Classifies iris flowers by petal and sepal size.",
        metrics={"accuracy": accuracy_score(y_test, model.predict(x_test))},
        tests=[
            {
                "name": "accuracy-floor",
                "type": "metric_min",
                "metric": "accuracy",
                "threshold": 0.85,
            }
        ],
        tags={"domain": "demo"},
    )
    walk_standard(demo.steward, demo.people, "iris-species", say)
    _wait_serving(client, "iris-species-production")
    say("  deployed iris-species v1 (V2: /v2/models/iris-species-production/infer)")


def _progression(demo: Demo) -> None:
    client, say = demo.client, demo.say
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_absolute_error, r2_score

    x_train, x_test, y_train, y_test = _split(*_frame(load_diabetes))
    candidates: list[tuple[Any, dict[str, Any]]] = [(Ridge(alpha=1.0), {"alpha": 1.0})]
    try:
        import lightgbm

        candidates.append(
            (lightgbm.LGBMRegressor(n_estimators=60, verbose=-1), {"n_estimators": 60})
        )
    except ImportError:
        say("  (lightgbm not installed: skipping the LightGBM version)")
    for version, (model, params) in enumerate(candidates, start=1):
        model.fit(x_train, y_train)
        predicted = model.predict(x_test)
        client.register(
            model,
            name="disease-progression",
            sample=x_test,
            training_data=x_train,
            params=params,
            owner="dana",
            team="Diagnostics",
            risk_tier="high",
            description="Predicts one-year disease progression.",
            metrics={
                "r2": r2_score(y_test, predicted),
                "mae": mean_absolute_error(y_test, predicted),
            },
            lineage={"parent_version": version - 1} if version > 1 else {},
            tags={"domain": "health"},
        )
        say(f"  registered disease-progression v{version}")


def _wine(demo: Demo) -> None:
    client, say = demo.client, demo.say
    try:
        import xgboost
    except ImportError:
        say("  (xgboost not installed: skipping wine-cultivar)")
        return
    from sklearn.datasets import load_wine
    from sklearn.metrics import accuracy_score

    x_train, x_test, y_train, y_test = _split(*_frame(load_wine))
    model = xgboost.XGBClassifier(n_estimators=40, max_depth=3).fit(x_train, y_train)
    client.register(
        model,
        name="wine-cultivar",
        sample=x_test,
        training_data=x_train,
        owner="dana",
        team="Retail analytics",
        risk_tier="medium",
        description="Identifies the cultivar of a wine.",
        metrics={"accuracy": accuracy_score(y_test, model.predict(x_test))},
        tags={"domain": "retail"},
    )
    say("  registered wine-cultivar v1")


def _credit(demo: Demo) -> None:
    """Follows ``regulated``: v1 to production through validation and two approvals."""
    client, say = demo.client, demo.say
    versions = credit_versions()
    client.create_model(
        "credit-approval",
        description="Probability that an applicant repays a consumer loan.",
        owner="dana",
        team="Retail credit",
        risk_tier="critical",
        use_case="Pre-screens consumer loan applications; a person makes the decision.",
        tags={"domain": "lending", "regulated": "yes"},
    )
    for number, version in enumerate(versions, start=1):
        client.register(
            version["model"],
            name="credit-approval",
            sample=version["sample"],
            training_data=version["training_data"],
            training_data_uri="s3://lending/applications/2026-09/train.parquet",
            params=version["params"],
            metrics=version["metrics"],
            description=f"Candidate {number}: {type(version['model']).__name__}.",
            code={
                "repository": "https://git.example.com/lending/credit-approval",
                "commit": f"c0ffee{number}",
                "entry_point": "train.py",
            },
            lineage={"parent_version": number - 1} if number > 1 else {},
            tests=[{"name": "auc-floor", "type": "metric_min", "metric": "auc", "threshold": 0.8}],
        )
        say(f"  registered credit-approval v{number}")
    walk_regulated(demo.steward, demo.people, "credit-approval", say)
    _wait_serving(client, "credit-approval-production")
    _credit_traffic(demo, versions[0]["model"])


def _wait_logged(steward: Steward, deployment: str, rows: int, timeout_s: float = 30) -> None:
    """Until the prediction log's background writer has flushed ``rows`` predictions."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        window = read_window(
            steward.settings.logs_url, deployment, now=datetime.now(UTC), last=rows
        )
        if window.rows >= rows:
            return
        time.sleep(0.25)
    raise TimeoutError(f"the prediction log of {deployment} did not reach {rows} rows")


def _credit_traffic(demo: Demo, model: Any) -> None:
    """Twelve past hours and a live hour of applicants, drifting; labels; monitors run."""
    client, deployment, now = demo.client, "credit-approval-production", datetime.now(UTC)
    labels = write_history(demo.steward, deployment, model, 1, now)
    for phase, (seed, shift) in enumerate([(21, 0.0), (22, 1.0)]):
        frame, repaid, _ = applicants(TRAFFIC_ROWS, seed=seed, shift=shift)
        for i, record in enumerate(frame.to_dict("records")):
            key = f"application-{phase}-{i}"
            client.predict(deployment, [record], key=key)
            labels.append({"key": key, "label": int(repaid.iloc[i])})
    client._call("POST", f"/api/v1/deployments/{deployment}/labels", json=labels)
    demo.say(f"  sent {2 * TRAFFIC_ROWS} applications to {deployment} (the second half drifted)")
    _wait_logged(demo.steward, deployment, len(labels))  # history and live: all labelled
    for name, spec in BUSINESS_MONITORS:
        create_monitor(demo.steward, demo.people["omar"].name, deployment, name, spec)
    run_past_hours(demo.steward, deployment, now, demo.say)
    for monitor in list_monitors(demo.steward, deployment):
        run_now(demo.steward, monitor.id)
    demo.say(f"  monitors ran over the live traffic: see /deployments/{deployment}/monitoring")


# What the lending business watches beside the model's own metrics: how many applicants
# it approves, and what approving those who then default costs per application.
BUSINESS_MONITORS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "approval-rate",
        {
            "type": "business_kpi",
            "function": "positive_rate",
            "metric": "approval_rate",
            "thresholds": {"kpi": {"min": 0.4}},
            "window": {"hours": 1},
            "every_minutes": 60,
        },
    ),
    (
        "default-cost",
        {
            "type": "business_kpi",
            "metric": "default_cost_per_application",
            "sql": "SELECT avg(CASE WHEN prediction = 1 AND label = '0' THEN 5000 ELSE 0 END) "
            "FROM predictions WHERE label IS NOT NULL",
            "thresholds": {"kpi": {"max": 600}},
            "window": {"hours": 1},
            "every_minutes": 60,
        },
    ),
)


EXAMPLES: dict[str, Callable[[Demo], None]] = {
    "credit-approval": _credit,
    "tumor-screening": _screening,
    "iris-species": _species,
    "disease-progression": _progression,
    "wine-cultivar": _wine,
}


def seed(steward: Steward | None = None, progress: Progress = print) -> list[str]:
    """Register the examples that are missing; returns the names seeded this time."""
    owned = steward is None
    steward = steward or Steward()
    seeded = []
    try:
        with serve_in_thread(steward) as url:
            token = steward.settings.admin_token_path.read_text().strip()
            with Client(url, token) as client:
                existing = {m["name"] for m in client.list_models(status="all", limit=500)["items"]}
                missing = [name for name in EXAMPLES if name not in existing]
                people = seed_people(steward, progress)
                if missing and not existing:
                    assign_lifecycles(steward)
                demo = Demo(client, steward, people, progress)
                for name in missing:
                    progress(f"seeding {name}")
                    EXAMPLES[name](demo)
                    seeded.append(name)
    finally:
        if owned:
            steward.close()
    progress(f"inventory ready under {steward.settings.home} ({len(seeded)} example(s) added)")
    return seeded
