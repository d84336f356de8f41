"""Multivariate monitoring: changes that per-column drift tests cannot see, and outliers.

A ``MultivariateBaseline`` (``baseline``) is fitted once on reference data and stored as
JSON; ``reconstruction`` (PCA reconstruction error), ``domain_classifier`` (can a model
tell reference from current rows?) and ``outliers`` (Mahalanobis distance per row) judge
windows against it. The monitor families using them are ``families.multivariate_drift`` and
``families.outliers``; docs/monitoring-multivariate.md explains the defaults.
"""

from modelsteward.monitoring.multivariate.baseline import MultivariateBaseline, fit_baseline
from modelsteward.monitoring.multivariate.domain_classifier import domain_classifier_auc
from modelsteward.monitoring.multivariate.outliers import outlier_rate
from modelsteward.monitoring.multivariate.reconstruction import reconstruction_error

__all__ = [
    "MultivariateBaseline",
    "domain_classifier_auc",
    "fit_baseline",
    "outlier_rate",
    "reconstruction_error",
]
