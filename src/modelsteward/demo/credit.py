"""A credit-approval model on seeded synthetic applicants, with a protected attribute.

scikit-learn bundles no lending data, so applicants are drawn from fixed distributions
(seeded, the same on every machine). ``sex`` is not a feature: it is kept aside to
measure fairness, and the version records demographic parity and equalised odds
differences and the disparate impact ratio computed on the held-out applicants, which
the ``regulated`` life cycle's fairness gate reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

FEATURES = ["age", "income", "debt_ratio", "years_employed", "credit_lines", "late_payments"]


def applicants(
    rows: int, seed: int, *, shift: float = 0.0
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Features, the repaid label and the protected attribute; ``shift`` makes a
    later, poorer population (lower incomes, higher debt) for drift demonstrations."""
    rng = np.random.default_rng(seed)
    sex = pd.Series(rng.choice(["female", "male"], size=rows), name="sex")
    frame = pd.DataFrame(
        {
            "age": rng.integers(21, 75, rows).astype(float),
            "income": rng.lognormal(10.6 - 0.35 * shift, 0.45, rows).round(0),
            "debt_ratio": np.clip(rng.beta(2, 5, rows) + 0.18 * shift, 0, 1.5),
            "years_employed": rng.gamma(2.0, 3.0, rows).round(1),
            "credit_lines": rng.poisson(4 + 2 * shift, rows).astype(float),
            "late_payments": rng.poisson(0.6 + 0.8 * shift, rows).astype(float),
        }
    )
    score = (
        0.9 * np.log(frame["income"] / 40_000)
        - 3.2 * frame["debt_ratio"]
        + 0.05 * frame["years_employed"]
        - 0.55 * frame["late_payments"]
        + 0.012 * (frame["age"] - 40)
        + rng.normal(0, 0.6, rows)
    )
    repaid = pd.Series((score > -0.8).astype(int), name="repaid")
    return frame, repaid, sex


def fairness_metrics(
    predicted: np.ndarray, truth: np.ndarray, group: np.ndarray
) -> dict[str, float]:
    """Parity and equalised-odds differences (female - male) and the disparate impact ratio."""
    female, male = group == "female", group == "male"
    rate_f, rate_m = predicted[female].mean(), predicted[male].mean()

    def rate(mask: np.ndarray, label: int) -> float:
        chosen = mask & (truth == label)
        return float(predicted[chosen].mean()) if chosen.any() else 0.0

    odds = max(abs(rate(female, 1) - rate(male, 1)), abs(rate(female, 0) - rate(male, 0)))
    return {
        "fairness.demographic_parity_difference.sex": float(rate_f - rate_m),
        "fairness.equalized_odds_difference.sex": float(odds),
        "fairness.disparate_impact_ratio.sex": float(min(rate_f, rate_m) / max(rate_f, rate_m)),
    }


def credit_versions() -> list[dict[str, Any]]:
    """Two fitted versions with everything registration and the regulated gates need."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, y_train, _ = applicants(6_000, seed=11)
    x_test, y_test, sex_test = applicants(2_000, seed=12)
    candidates: list[tuple[Any, dict[str, Any]]] = [
        (make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), {"C": 1.0}),
        (HistGradientBoostingClassifier(max_iter=120, random_state=7), {"max_iter": 120}),
    ]
    versions = []
    for model, params in candidates:
        model.fit(x_train, y_train)
        predicted = model.predict(x_test)
        proba = model.predict_proba(x_test)[:, 1]
        metrics = {
            "accuracy": float(accuracy_score(y_test, predicted)),
            "auc": float(roc_auc_score(y_test, proba)),
            **fairness_metrics(predicted, y_test.to_numpy(), sex_test.to_numpy()),
        }
        versions.append(
            {
                "model": model,
                "params": params,
                "metrics": metrics,
                "sample": x_test.head(50),
                "training_data": pd.concat([x_train, y_train], axis=1),
            }
        )
    return versions
