"""Data drift: per-column statistics, one module per method, chosen through a registry.

``compare(reference, current)`` returns a verdict per column and for the data set. Methods
live in ``ks``, ``wasserstein``, ``psi``, ``jensen_shannon`` and ``chi_square``, keyed by
those names in ``registry.METHODS``; ``DriftConfig`` documents the default rule.
"""

from modelsteward.monitoring.drift.base import DriftMethod, Score
from modelsteward.monitoring.drift.compare import compare, compare_exact, compare_profile
from modelsteward.monitoring.drift.config import DriftConfig
from modelsteward.monitoring.drift.registry import METHODS, get_method
from modelsteward.monitoring.drift.result import ColumnDrift, DriftResult, Status

__all__ = [
    "METHODS",
    "ColumnDrift",
    "DriftConfig",
    "DriftMethod",
    "DriftResult",
    "Score",
    "Status",
    "compare",
    "compare_exact",
    "compare_profile",
    "get_method",
]
