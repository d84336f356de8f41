"""Offline reports: ``build_report(reference, current)`` -> JSON or one self-contained page."""

from modelsteward.monitoring.report.build import Report, build_report
from modelsteward.monitoring.report.distributions import FeatureDistribution

__all__ = ["FeatureDistribution", "Report", "build_report"]
