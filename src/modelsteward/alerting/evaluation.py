"""The evaluation of one rule on one target, window after window: a pure state machine.

The evaluator (live, on each monitor run) and the backtest (replaying stored points)
both step the same function, so a backtest says exactly what the rule would have done.
Each window gives one observation: ``breach``, ``ok`` or ``no_data``. The rule's
``no_data`` policy turns the last into nothing (``keep``), ``ok`` or ``breach``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from modelsteward.alerting.specs import RuleSpec

Observation = Literal["breach", "ok", "no_data"]
Transition = Literal["open", "resolve"]


@dataclass(frozen=True)
class TargetState:
    recent: tuple[bool, ...] = ()
    """The last ``pending.of_windows`` decisive windows, True where breached."""
    firing: bool = False
    ok_streak: int = 0
    """Ok windows in a row while firing (keep-firing counts them)."""


def observe(rule: RuleSpec, status: str, value: float | None, n: int | None) -> Observation:
    """What one stored point says under ``rule``: "not enough data", a value missing
    or fewer rows than ``min_samples`` is no data, never a breach."""
    if status == "not enough data" or (value is None and rule.condition != "breached"):
        return "no_data"
    if status not in ("ok", "breached") and rule.condition == "breached":
        return "no_data"
    if rule.min_samples and n is not None and n < rule.min_samples:
        return "no_data"
    return "breach" if rule.breaches(status, value) else "ok"


def step(
    rule: RuleSpec, state: TargetState, observation: Observation
) -> tuple[TargetState, Transition | None]:
    """The state after one more window, and whether the alert opens or resolves."""
    if observation == "no_data":
        if rule.no_data == "keep":
            return state, None
        observation = "ok" if rule.no_data == "ok" else "breach"
    window = rule.pending.of_windows
    recent = (*state.recent, observation == "breach")[-window:]
    if observation == "breach":
        if state.firing:
            return replace(state, recent=recent, ok_streak=0), None
        if sum(recent) >= rule.pending.breaches:
            return TargetState(recent, True, 0), "open"
        return TargetState(recent, False, 0), None
    if not state.firing:
        return TargetState(recent, False, 0), None
    streak = state.ok_streak + 1
    if streak > rule.keep_firing_windows:
        return TargetState((), False, 0), "resolve"
    return TargetState(recent, True, streak), None
