"""What a deployment's monitoring page shows: metric series grouped for drawing, and the
latest window's per-feature distributions against the serving version's training data.

Series come from stored metric points (cheap). The distributions are computed on
demand from the newest ``last`` logged predictions and the version's stored training
profile, with the same code the offline report uses, so the page and ``steward
report`` always agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from modelsteward.context import Steward
from modelsteward.errors import NotFound
from modelsteward.monitoring.report.build import Report, build_report
from modelsteward.monitoring.service import list_monitors, metric_points
from modelsteward.monitoring.views import MonitorView, PointView
from modelsteward.monitoring.windows import read_window
from modelsteward.monitoring.windows.segments import dominant_version
from modelsteward.profiles.dataset import DatasetProfile
from modelsteward.store.tables import Deployment, ModelVersion

# Read first on the page: what decides whether a deployment is healthy.
LEADING = (
    "drift_share",
    "domain_classifier_auc",
    "error_rate",
    "latency_p95_ms",
    "accuracy",
    "estimated_accuracy",
    "roc_auc",
    "rmse",
    "disparate_impact_ratio",
    "kpi",
    "outlier_rate",
)
MAX_SERIES = 48


@dataclass(frozen=True)
class Series:
    """One metric of one monitor (and column), oldest point first."""

    monitor: str
    metric: str
    column: str
    points: list[PointView]

    @property
    def latest(self) -> PointView:
        return self.points[-1]

    @property
    def title(self) -> str:
        return f"{self.metric} · {self.column}" if self.column else self.metric


@dataclass
class Overview:
    deployment: str
    monitors: list[MonitorView]
    series: list[Series] = field(default_factory=list)
    breached: list[Series] = field(default_factory=list)


def overview(steward: Steward, deployment: str, *, days: float = 7) -> Overview:
    """Monitors and their series over the last ``days``; breached series listed first."""
    monitors = list_monitors(steward, deployment)
    since = datetime.now(UTC) - timedelta(days=days)
    grouped: dict[tuple[str, str, str], list[PointView]] = defaultdict(list)
    for point in metric_points(steward, deployment, since=since, segment=""):
        grouped[(point.monitor, point.metric, point.column)].append(point)
    series = [Series(m, metric, column, pts) for (m, metric, column), pts in grouped.items()]

    def order(s: Series) -> tuple[int, int, str, str, str]:
        lead = LEADING.index(s.metric) if s.metric in LEADING else len(LEADING)
        return (s.latest.status != "breached", lead, s.monitor, s.metric, s.column)

    series.sort(key=order)
    return Overview(
        deployment,
        monitors,
        series[:MAX_SERIES],
        [s for s in series if s.latest.status == "breached"],
    )


def feature_drift(steward: Steward, deployment: str, *, last: int = 5_000) -> Report | None:
    """The newest ``last`` predictions' inputs against the serving version's training
    profile; None when nothing was logged yet or the version has no stored profile."""
    window = read_window(steward.settings.logs_url, deployment, now=datetime.now(UTC), last=last)
    number = dominant_version(window)
    if window.rows == 0 or number is None:
        return None
    with steward.db.read() as session:
        model_id = session.scalar(select(Deployment.model_id).where(Deployment.name == deployment))
        if model_id is None:
            raise NotFound(f"deployment {deployment!r} not found")
        version = session.scalar(
            select(ModelVersion).where(
                ModelVersion.model_id == model_id, ModelVersion.version == number
            )
        )
        stored = (version.training_data or {}).get("profile") if version else None
        features = [
            c["name"]
            for c in ((version.input_schema if version else None) or {}).get("columns", [])
        ]
    if not isinstance(stored, dict):
        return None
    profile = DatasetProfile.from_dict(stored)
    if features:  # the training data may hold the target too: compare the features
        profile = DatasetProfile(
            profile.rows, {n: c for n, c in profile.columns.items() if n in features}
        )
    return build_report(
        profile,
        window.inputs,
        title=f"{deployment}: last {window.rows} predictions vs training data of v{number}",
    )
