"""A revision's recorded rollout steps, shaped into the timeline the page draws.

Every revision shows the same five stages (load → verify → smoke → ready → switch),
so a failed rollout is visible as the red stage and the stages it never reached. A
``rollback`` step, recorded when a failed rollout left the previous revision serving,
closes the timeline and is marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelsteward.serving.views import RevisionView, StepView

STAGES = ("load", "verify", "smoke", "ready", "switch")
OPEN = ("pending", "running")
ROLLBACK_PREFIX = "rollback to revision "

# Status of a revision: a short label and the badge style it is shown with.
REVISION_STATES = {
    "pending": ("waiting to roll out", "badge-warn"),
    "running": ("rolling out", "badge-warn"),
    "applied": ("serving", "badge-ok"),
    "superseded": ("superseded", "badge-muted"),
    "rolled_back": ("failed · rolled back", "badge-bad"),
    "failed": ("failed", "badge-bad"),
}


@dataclass(frozen=True)
class Stage:
    """One stage on the timeline; ``state`` is ok, failed, running, waiting, skipped or rollback."""

    name: str
    state: str
    detail: str = ""
    seconds: float | None = None

    @property
    def took(self) -> str:
        if self.seconds is None:
            return ""
        return "<0.01 s" if self.seconds < 0.01 else f"{self.seconds:.2f} s"


def _stage(step: StepView) -> Stage:
    seconds = None
    if step.started_at is not None and step.finished_at is not None:
        seconds = max((step.finished_at - step.started_at).total_seconds(), 0.0)
    state = "ok" if step.status == "ok" else "failed"
    return Stage(step.step, "rollback" if step.step == "rollback" else state, step.detail, seconds)


def timeline(revision: RevisionView) -> list[Stage]:
    """The five stages as recorded or not (yet) reached, then any other recorded step."""
    recorded = {s.step: s for s in revision.steps}
    stages: list[Stage] = []
    stopped = revision.status not in OPEN
    for name in STAGES:
        if name in recorded:
            stages.append(_stage(recorded[name]))
            stopped = stopped or stages[-1].state == "failed"
        elif stopped:
            stages.append(Stage(name, "skipped"))
        elif revision.status == "running" and all(s.state != "running" for s in stages):
            stages.append(Stage(name, "running"))
        else:
            stages.append(Stage(name, "waiting"))
    stages += [_stage(s) for s in revision.steps if s.step not in STAGES]
    return stages


def failure(revision: RevisionView) -> Stage | None:
    """The stage that failed, for the line that explains a failed rollout."""
    return next((s for s in timeline(revision) if s.state == "failed"), None)


def rollback_target(revision: RevisionView) -> int | None:
    """The revision a manual rollback returned to, read from the reason it records."""
    if not revision.reason.startswith(ROLLBACK_PREFIX):
        return None
    number = revision.reason.removeprefix(ROLLBACK_PREFIX)
    return int(number) if number.isdigit() else None
