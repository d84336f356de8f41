"""A served classifier's class probabilities, kept for the prediction log.

Callers of a classifier get its classes, as ``predict`` gives them. Monitoring needs more:
ROC AUC, log loss, calibration and the estimated performance of a window without labels
all read each prediction's probability. So a scikit-learn classifier with
``predict_proba`` (or a flavor's loaded model that declares ``is_classifier`` and gives
``classes_`` and ``predict_proba``, as LightGBM's native models do) is answered through
``predict_proba`` and the log records both: a
binary classifier's rows are ``{"prediction": c, "probability": p}`` (``p`` of the second
class of ``classes_``, the positive one), a multiclass one's ``{"prediction": c,
"proba_<class>": p, ...}``. V2 callers may ask for the ``predict_proba`` output too.

Where ``predict`` is by construction the class of highest probability (the estimators in
``ARGMAX_PREDICT``), the classes are taken from the probabilities and the model is run
once; rows whose two highest probabilities are equal, where estimators break the tie
differently, are answered by ``predict`` (except where ``predict`` is that very argmax,
``EXACT_ARGMAX``). For any other classifier both methods run.
Either way an answer never differs from ``predict``'s.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# Final estimators whose ``predict`` is the class of highest ``predict_proba`` (ties
# aside): computing both would only repeat the work.
ARGMAX_PREDICT = frozenset(
    {
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._logistic.LogisticRegressionCV",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.ExtraTreesClassifier",
        "sklearn.ensemble._gb.GradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.ExtraTreeClassifier",
        "sklearn.naive_bayes.GaussianNB",
        "sklearn.naive_bayes.MultinomialNB",
        "sklearn.naive_bayes.BernoulliNB",
        "sklearn.naive_bayes.ComplementNB",
        "sklearn.calibration.CalibratedClassifierCV",
        "modelsteward.registry.flavors.lightgbm.LightGBMModel",
    }
)
# Of those, the ones whose ``predict`` is literally ``classes_.take(argmax(proba))`` over
# the same probabilities, ties included: no tie can differ. (A forest's probabilities
# are vote shares, so ties are common; asking ``predict`` about them would cost a whole
# second pass through the trees.)
EXACT_ARGMAX = frozenset(
    {
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.ExtraTreesClassifier",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.ExtraTreeClassifier",
        "sklearn.calibration.CalibratedClassifierCV",
        "modelsteward.registry.flavors.lightgbm.LightGBMModel",
    }
)
MAX_LOGGED_CLASSES = 50  # beyond this many classes only the prediction is logged
PROBA_OUTPUT = "predict_proba"


class ClassifierAnswer:
    """The classes a request gets and the probabilities behind them, row for row."""

    __slots__ = ("classes", "predictions", "probabilities")

    def __init__(
        self, predictions: np.ndarray, probabilities: np.ndarray, classes: Sequence[Any]
    ) -> None:
        self.predictions = predictions
        self.probabilities = probabilities
        self.classes = classes

    def __len__(self) -> int:
        return len(self.predictions)

    def split(self, bounds: Sequence[tuple[int, int]]) -> list[ClassifierAnswer]:
        """One answer per ``(start, stop)`` row range (adaptive batching's requests)."""
        return [
            ClassifierAnswer(self.predictions[a:b], self.probabilities[a:b], self.classes)
            for a, b in bounds
        ]

    def columns(self) -> dict[str, np.ndarray]:
        """The logged fields as columns, named as ``log_rows`` names them."""
        if len(self.classes) == 2:
            return {"prediction": self.predictions, "probability": self.probabilities[:, 1]}
        if len(self.classes) > MAX_LOGGED_CLASSES:
            return {"prediction": self.predictions}
        named = {f"proba_{c}": self.probabilities[:, i] for i, c in enumerate(self.classes)}
        return {"prediction": self.predictions, **named}

    def log_rows(self) -> list[dict[str, Any]]:
        """Rows for the prediction log: the class and its probability (or one per class)."""
        columns = self.columns()
        names, values = list(columns), [c.tolist() for c in columns.values()]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def answering(model: Any) -> Callable[[Any], ClassifierAnswer] | None:
    """For a scikit-learn classifier with probabilities, the function serving calls
    instead of ``predict``: it returns a ``ClassifierAnswer``. None for other models."""
    classes = _classes(model)
    if classes is None:
        return None
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    kind = f"{type(final).__module__}.{type(final).__qualname__}"
    derive, exact = kind in ARGMAX_PREDICT, kind in EXACT_ARGMAX
    labels = tuple(classes.tolist())

    def answer(inputs: Any) -> ClassifierAnswer:
        probabilities = np.asarray(model.predict_proba(inputs), dtype=np.float64)
        if not derive:
            return ClassifierAnswer(np.asarray(model.predict(inputs)), probabilities, labels)
        predictions = classes.take(probabilities.argmax(axis=1))
        if exact:
            return ClassifierAnswer(predictions, probabilities, labels)
        top = probabilities.max(axis=1, keepdims=True)
        tied = np.flatnonzero((probabilities == top).sum(axis=1) > 1)
        if tied.size:
            rows = inputs.iloc[tied] if hasattr(inputs, "iloc") else np.asarray(inputs)[tied]
            predictions[tied] = model.predict(rows)
        return ClassifierAnswer(predictions, probabilities, labels)

    return answer


def _declares_classifier(model: Any) -> bool:
    """A non-scikit-learn model that says it is a classifier (``is_classifier`` True)."""
    return getattr(model, "is_classifier", None) is True


def _classes(model: Any) -> np.ndarray | None:
    """``classes_`` of a fitted classifier that can give probabilities: scikit-learn's,
    or a flavor's loaded model that declares itself one."""
    declared = _declares_classifier(model)
    if not declared and "sklearn" not in sys.modules:
        return None  # never imported, so this cannot be a scikit-learn estimator
    try:
        if not declared:
            from sklearn.base import is_classifier

            if not is_classifier(model):
                return None
        if not hasattr(model, "predict_proba"):
            return None  # hasattr is False where predict_proba is unavailable (SVC)
        classes = np.asarray(model.classes_)
    except Exception:  # an estimator that cannot tell: serve predict alone
        return None
    return classes if classes.ndim == 1 and classes.size >= 2 else None


def predictions_of(outputs: Any) -> Any:
    """What a caller gets: the classes of a ``ClassifierAnswer``, anything else as it is."""
    return outputs.predictions if isinstance(outputs, ClassifierAnswer) else outputs
