"""The rules a sound life cycle obeys, checked on a spec whose shape is already valid.

Every state named is defined and reachable from ``initial``; from every state some
path leads to a terminal state (no cycle without exit); nothing leaves a terminal
state, and no terminal state is a production state (it would hold the model's one
production place for ever); names are unique; gates name registered checks (with
valid params) and roles that may approve; ``on_enter`` names registered actions;
timers fire transitions that leave their state; ``auto`` transitions never loop among
themselves. Each problem carries its location so ``definitions`` can name the line.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from typing import Any

from modelsteward.errors import StewardError
from modelsteward.identity.roles import Permission, Role, permissions_of
from modelsteward.lifecycle.actions.registry import get_action
from modelsteward.lifecycle.checks.registry import get_check
from modelsteward.lifecycle.spec import ApprovalGate, CheckGate, LifecycleSpec

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def problems(spec: LifecycleSpec) -> list[Problem]:
    """Every rule ``spec`` breaks, each with where in the document it is."""
    found: list[Problem] = []
    known = set(spec.state_names)
    found += _duplicates(("states",), [s.name for s in spec.states], "state")
    found += _duplicates(("transitions",), [t.name for t in spec.transitions], "transition")
    if spec.initial not in known:
        found.append((("initial",), f"initial state {spec.initial!r} is not defined"))
    terminal = spec.terminal_states
    for i, t in enumerate(spec.transitions):
        for j, source in enumerate(t.from_):
            if source not in known:
                found.append((("transitions", i, "from_", j), f"unknown state {source!r}"))
            elif source in terminal:
                found.append(
                    (("transitions", i, "from_", j), f"{source!r} is terminal: nothing leaves it")
                )
        if t.to not in known:
            found.append((("transitions", i, "to"), f"unknown state {t.to!r}"))
        for g, gate in enumerate(t.gates):
            found += _gate_problems(("transitions", i, "gates", g), gate)
            if isinstance(gate, ApprovalGate):
                found += _distinct_problems(("transitions", i, "gates", g), spec, t.name, gate)
    for i in range(len(spec.states)):
        found += _state_problems(spec, i)
    if not found:
        found += _graph_problems(spec)
    return found


def _duplicates(where: Loc, names: Sequence[str], what: str) -> list[Problem]:
    seen: set[str] = set()
    found: list[Problem] = []
    for i, name in enumerate(names):
        if name in seen:
            found.append(((*where, i, "name"), f"{what} {name!r} is defined twice"))
        seen.add(name)
    return found


def _params_problem(where: Loc, kind: str, parse: Any, params: dict[str, Any]) -> list[Problem]:
    try:
        parse(params)
    except StewardError as exc:
        return [((*where, "params"), exc.message.replace(f"{kind}: ", "", 1))]
    return []


def _gate_problems(where: Loc, gate: CheckGate | ApprovalGate) -> list[Problem]:
    if isinstance(gate, CheckGate):
        try:
            check = get_check(gate.check)
        except StewardError as exc:
            return [((*where, "check"), exc.message)]
        return _params_problem(where, "check", check.parse_params, gate.params)
    found = _role_problem((*where, "approval", "role"), gate.role)
    if gate.escalate_to is not None:
        found += _role_problem((*where, "approval", "escalate_to"), gate.escalate_to)
    return found


def _distinct_problems(
    where: Loc, spec: LifecycleSpec, own: str, gate: ApprovalGate
) -> list[Problem]:
    """Each ``distinct_from`` name is a transition or a state whose deciders exist."""
    transitions = {t.name: t for t in spec.transitions}
    approved = {t.name for t in spec.transitions if t.approvals}
    found: list[Problem] = []
    for k, name in enumerate(gate.distinct_from):
        at: Loc = (*where, "approval", "distinct_from", k)
        if name == own:
            found.append((at, f"{name!r} is this gate's own transition: one vote each applies"))
        elif name not in transitions and name not in spec.state_names:
            found.append(
                (
                    at,
                    f"distinct_from names {name!r}, which is no transition or state; "
                    f"transitions with approvals: {', '.join(sorted(approved)) or 'none'}",
                )
            )
        elif not spec.deciding_transitions((name,)) & approved:
            found.append((at, f"nobody approves {name!r}: no approval gate decides it"))
    return found


def _role_problem(where: Loc, role: str) -> list[Problem]:
    deciders = [r.value for r in Role if Permission.TASKS_DECIDE in permissions_of(r.value)]
    if role not in {r.value for r in Role}:
        return [(where, f"unknown role {role[:40]!r}; roles that approve: {', '.join(deciders)}")]
    if role not in deciders:
        return [(where, f"role {role!r} cannot approve; use one of {', '.join(deciders)}")]
    return []


def _state_problems(spec: LifecycleSpec, i: int) -> list[Problem]:
    state = spec.states[i]
    found: list[Problem] = []
    if state.production and state.terminal:
        found.append(
            (
                ("states", i, "terminal"),
                f"{state.name!r} is both production and terminal: a version would hold "
                "production for ever and no other version of the model could enter it",
            )
        )
    if state.supersedes is not None and not state.production:
        found.append(
            (
                ("states", i, "supersedes"),
                f"{state.name!r} is not a production state: only a production state "
                "supersedes the version holding production",
            )
        )
    for a, entry in enumerate(state.on_enter):
        where: Loc = ("states", i, "on_enter", a)
        try:
            action = get_action(entry.action)
        except StewardError as exc:
            found.append(((*where, "action"), exc.message))
            continue
        found += _params_problem(where, "action", action.parse_params, entry.params)
    names = {t.name for t in spec.transitions}
    leaving = {t.name for t in spec.transitions_from(state.name)}
    for k, timer in enumerate(state.timers):
        where = ("states", i, "timers", k, "transition")
        if timer.transition not in names:
            found.append((where, f"unknown transition {timer.transition!r}"))
        elif timer.transition not in leaving:
            found.append((where, f"transition {timer.transition!r} does not leave {state.name!r}"))
    return found


def _graph_problems(spec: LifecycleSpec) -> list[Problem]:
    """Reachability from ``initial``, a way out to a terminal state, no endless auto loop."""
    index = {s.name: i for i, s in enumerate(spec.states)}
    forward: dict[str, set[str]] = defaultdict(set)
    backward: dict[str, set[str]] = defaultdict(set)
    for t in spec.transitions:
        for source in t.from_:
            forward[source].add(t.to)
            backward[t.to].add(source)
    if not spec.terminal_states:
        return [
            (("states",), "no state is terminal: mark where the life cycle ends (terminal: true)")
        ]
    reachable = _closure([spec.initial], forward)
    can_finish = _closure(spec.terminal_states, backward)
    found: list[Problem] = []
    for state in spec.states:
        where: Loc = ("states", index[state.name], "name")
        if state.name not in reachable:
            found.append((where, f"state {state.name!r} cannot be reached from {spec.initial!r}"))
        elif state.name not in can_finish:
            found.append(
                (where, f"no path from {state.name!r} to a terminal state (a cycle without exit)")
            )
    return found + _auto_loops(spec)


def _closure(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen, queue = set(start), deque(start)
    while queue:
        for nxt in edges[queue.popleft()] - seen:
            seen.add(nxt)
            queue.append(nxt)
    return seen


def _auto_loops(spec: LifecycleSpec) -> list[Problem]:
    """``auto`` transitions that lead back to where they started would fire forever."""
    auto: dict[str, set[str]] = defaultdict(set)
    for t in spec.transitions:
        if t.trigger == "auto":
            for source in t.from_:
                auto[source].add(t.to)
    found: list[Problem] = []
    for i, t in enumerate(spec.transitions):
        if t.trigger == "auto" and set(t.from_) & _closure([t.to], auto):
            found.append(
                (
                    ("transitions", i, "trigger"),
                    f"auto transition {t.name!r} can lead back to where it started through "
                    "auto transitions only; the engine would loop (make one of them manual)",
                )
            )
    return found
