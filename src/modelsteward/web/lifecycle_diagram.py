"""A life cycle drawn as inline SVG: states in columns by depth, transitions as arrows.

States sit left to right by the longest forward path from the initial state, so the
usual journey reads as a line; transitions that go back (re-validation, rework) arc
under the states, and a transition into the state it leaves loops above it. Each
arrow is labelled with its name and what guards it (checks, approvals, trigger).
An instance's current state and the transitions it has taken are highlighted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from markupsafe import Markup

from modelsteward.lifecycle.spec import LifecycleSpec, TransitionSpec
from modelsteward.web.svg import document, fmt, shorten, text, title

NODE_W, NODE_H = 120, 46
COL, ROW = 232, 100
PAD = 28
LOOP_H = 48  # room above the first row for self-loops
ARC_STEP = 34  # each back edge runs this much deeper than the one before
LANE_GAP = 20  # how far under a row long forward edges run
LONG_LANES = 3  # long edges to different targets run this many lanes apart

_ARROW = (
    '<marker id="{id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
    'markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
    '<path d="M0,0 L10,5 L0,10 z" class="{css}"/></marker>'
)
_DEFS = (
    "<defs>"
    + _ARROW.format(id="mlc-arrow", css="mlc-arrowhead")
    + _ARROW.format(id="mlc-arrow-taken", css="mlc-arrowhead is-taken")
    + "</defs>"
)


@dataclass(frozen=True)
class Placed:
    name: str
    column: int
    row: int
    top: float = PAD  # where the first row starts (lower when self-loops need room)

    @property
    def x(self) -> float:
        return PAD + self.column * COL

    @property
    def y(self) -> float:
        return self.top + self.row * ROW

    @property
    def mid_y(self) -> float:
        return self.y + NODE_H / 2


def layer(spec: LifecycleSpec) -> dict[str, Placed]:
    """Columns by the longest forward path from the initial state; back edges ignored."""
    forward: dict[str, list[str]] = {name: [] for name in spec.state_names}
    for source, target in _back_edge_free(spec):
        forward[source].append(target)
    depth = {name: 0 for name in spec.state_names}
    for name in _topological(spec.initial, forward, spec.state_names):
        for target in forward[name]:
            depth[target] = max(depth[target], depth[name] + 1)
    loops = any(t.to in t.from_ for t in spec.transitions)
    top = PAD + (LOOP_H if loops else 0)
    rows: dict[int, int] = {}
    placed: dict[str, Placed] = {}
    for name in spec.state_names:  # rows keep the order states are written in
        column = depth[name]
        placed[name] = Placed(name, column, rows.get(column, 0), top)
        rows[column] = rows.get(column, 0) + 1
    return placed


def _edges(spec: LifecycleSpec) -> Iterable[tuple[str, str]]:
    for transition in spec.transitions:
        for source in transition.from_:
            yield source, transition.to


def _back_edge_free(spec: LifecycleSpec) -> list[tuple[str, str]]:
    """The edges a depth-first walk from the initial state does not see as going back."""
    out: dict[str, list[str]] = {name: [] for name in spec.state_names}
    for source, target in _edges(spec):
        if source != target and target not in out[source]:
            out[source].append(target)
    kept: list[tuple[str, str]] = []
    done: set[str] = set()
    on_path: set[str] = set()
    roots = [spec.initial, *(n for n in spec.state_names if n != spec.initial)]
    for root in roots:
        if root in done:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(out[root]))]
        on_path.add(root)
        while stack:
            node, targets = stack[-1]
            following = next(targets, None)
            if following is None:
                stack.pop()
                on_path.discard(node)
                done.add(node)
                continue
            if following in on_path:
                continue  # a back edge: drawn as an arc, not used for depth
            kept.append((node, following))
            if following not in done:
                on_path.add(following)
                stack.append((following, iter(out[following])))
    return kept


def _topological(initial: str, forward: dict[str, list[str]], names: tuple[str, ...]) -> list[str]:
    incoming = {name: 0 for name in names}
    for targets in forward.values():
        for target in targets:
            incoming[target] += 1
    ready = [initial, *(n for n in names if n != initial and incoming[n] == 0)]
    ready = [n for n in ready if incoming[n] == 0]
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for target in forward[name]:
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return order


def guard_label(transition: TransitionSpec) -> str:
    """What stands in the way: ``2 checks · 2× risk-manager``, or how it is triggered."""
    parts: list[str] = []
    if transition.checks:
        count = len(transition.checks)
        parts.append(f"{count} check{'s' if count > 1 else ''}")
    for approval in transition.approvals:
        parts.append(f"{approval.count}× {approval.role}")
    if transition.trigger == "auto":
        parts.append("auto")
    elif transition.event:
        parts.append(f"on {transition.event}")
    return " · ".join(parts)


def _describe(transition: TransitionSpec) -> str:
    lines = [f"{transition.name}: {', '.join(transition.from_)} → {transition.to}"]
    lines += [f"check {gate.check}" for gate in transition.checks]
    for gate in transition.approvals:
        duty = ", separation of duties" if gate.separation_of_duties else ""
        lines.append(f"approval by {gate.count} {gate.role}{duty}")
    lines.append(f"trigger: {transition.trigger}")
    return "\n".join(lines)


def lifecycle_svg(
    spec: LifecycleSpec,
    *,
    current: str | None = None,
    taken: Iterable[str] = (),
    visited: Iterable[str] = (),
) -> Markup:
    """The diagram; ``taken`` names transitions an instance went through, ``visited`` states."""
    placed = layer(spec)
    plans = _plan(spec, placed)
    overs = max((e.lane for e in plans if e.route == "over"), default=0)
    loops = any(e.route == "loop" for e in plans)
    top = PAD + (LOOP_H if loops else 0) + overs * ARC_STEP
    placed = {name: replace(p, top=top) for name, p in placed.items()}
    taken_names, visited_names = set(taken), set(visited)
    bottom = max(p.y for p in placed.values()) + NODE_H
    ceiling = top - (LOOP_H if loops else 0)
    edges = []
    for plan in plans:
        a, b = placed[plan.source], placed[plan.target]
        path, anchor = _path(plan, a, b, ceiling=ceiling, floor=bottom)
        edges.append(_edge(plan.transition, path, anchor if plan.labelled else None, taken_names))
    nodes = [
        _node(spec, p, current=current, visited=p.name in visited_names) for p in placed.values()
    ]
    columns = max(p.column for p in placed.values()) + 1
    unders = max((e.lane for e in plans if e.route == "under"), default=0)
    width = PAD * 2 + (columns - 1) * COL + NODE_W
    height = bottom + (unders * ARC_STEP + 12 if unders else 0) + PAD
    label = f"life cycle {spec.name}" + (f", now in state {current}" if current else "")
    return document(width, height, [*edges, *nodes], label=label, css="mlc-graph", defs=_DEFS)


@dataclass(frozen=True)
class EdgePlan:
    """How one (transition, source) pair is drawn.

    ``route``: ``loop`` (into the state it leaves), ``next`` (to the next column),
    ``long`` (further right, through the gap under the source's row), ``over`` / ``under``
    (back to the left, above the first row or under the last). ``lane`` separates
    edges sharing a gap; ``parallel`` separates transitions joining the same two states.
    """

    transition: TransitionSpec
    source: str
    target: str
    route: str
    lane: int
    parallel: int
    labelled: bool


def _plan(spec: LifecycleSpec, placed: dict[str, Placed]) -> list[EdgePlan]:
    plans: list[EdgePlan] = []
    pairs: dict[tuple[str, str], int] = {}
    long_lanes: dict[str, int] = {}
    arcs = {"over": 0, "under": 0}
    for transition in spec.transitions:
        b = placed[transition.to]
        # One label per transition, on the edge from the source nearest the target.
        nearest = min(transition.from_, key=lambda n: abs(b.column - placed[n].column))
        for source in transition.from_:
            a = placed[source]
            route = _route(a, b)
            lane = 0
            if route == "back":
                route = "over" if a.row == 0 and b.row == 0 else "under"
                arcs[route] += 1
                lane = arcs[route]
            elif route == "long":
                lane = long_lanes.setdefault(b.name, len(long_lanes) % LONG_LANES)
            parallel = pairs.get((source, b.name), 0)
            pairs[(source, b.name)] = parallel + 1
            plans.append(
                EdgePlan(transition, source, b.name, route, lane, parallel, source == nearest)
            )
    return plans


def _route(a: Placed, b: Placed) -> str:
    if a.name == b.name:
        return "loop"
    if b.column == a.column + 1 or (b.column > a.column + 1 and b.row < a.row):
        return "next"
    if b.column > a.column:
        return "long"
    return "back"


def _node(spec: LifecycleSpec, placed: Placed, *, current: str | None, visited: bool) -> str:
    state = spec.state(placed.name)
    css = ["mlc-state"]
    if placed.name == current:
        css.append("is-current")
    elif visited:
        css.append("is-visited")
    if state.production:
        css.append("is-production")
    if state.terminal:
        css.append("is-terminal")
    if placed.name == spec.initial:
        css.append("is-initial")
    tags = [t for t, on in (("production", state.production), ("end", state.terminal)) if on]
    if state.timers:
        tags.append(
            "timer " + ", ".join(_short_duration(t.after.total_seconds()) for t in state.timers)
        )
    x, y = placed.x, placed.y
    inner = (
        f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{NODE_W}" height="{NODE_H}" rx="{NODE_H / 2}"/>'
        + text(x + NODE_W / 2, y + (19 if tags else 28), shorten(state.name, 18), "mlc-state-label")
        + (text(x + NODE_W / 2, y + 35, " · ".join(tags), "mlc-state-sub") if tags else "")
    )
    about = state.name + (f": {state.description}" if state.description else "")
    if state.on_enter:
        about += "\non enter: " + ", ".join(a.action for a in state.on_enter)
    return f'<g class="{" ".join(css)}" data-state="{state.name}">{title(about)}{inner}</g>'


def _short_duration(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _path(
    plan: EdgePlan, a: Placed, b: Placed, *, ceiling: float, floor: float
) -> tuple[str, tuple[float, float]]:
    """The SVG path of one edge and where its label goes."""
    r, shift = 10, plan.parallel * 12
    if plan.route == "loop":  # a loop above the state
        x0, x1, top = a.x + NODE_W * 0.35, a.x + NODE_W * 0.65, a.y - LOOP_H + 4
        return (
            f"M{fmt(x0)},{fmt(a.y)} C{fmt(x0)},{fmt(top)} {fmt(x1)},{fmt(top)} "
            f"{fmt(x1)},{fmt(a.y)}",
            (a.x + NODE_W / 2, top + 2),
        )
    if plan.route == "next":  # right side to left side; parallel transitions sit lower
        x0, x1 = a.x + NODE_W, b.x
        y0, y1, bend = a.mid_y + shift, b.mid_y + shift, (x1 - x0) / 2
        label_y = (y0 + y1) / 2 + (24 if plan.parallel else -6)  # a second one: below
        return (
            f"M{fmt(x0)},{fmt(y0)} C{fmt(x0 + bend)},{fmt(y0)} "
            f"{fmt(x1 - bend)},{fmt(y1)} {fmt(x1)},{fmt(y1)}",
            ((x0 + x1) / 2, label_y),
        )
    if plan.route == "long":  # down into the gap under the source's row, along it, in
        x0 = a.x + NODE_W / 2 + 12
        lane = a.y + NODE_H + LANE_GAP + plan.lane * 10
        start = f"M{fmt(x0)},{fmt(a.y + NODE_H)} L{fmt(x0)},{fmt(lane - r)} "
        start += f"Q{fmt(x0)},{fmt(lane)} {fmt(x0 + r)},{fmt(lane)} "
        if b.row == a.row:  # up into the target's bottom
            x1 = b.x + NODE_W / 2 - 12
            end = f"L{fmt(x1 - r)},{fmt(lane)} Q{fmt(x1)},{fmt(lane)} {fmt(x1)},{fmt(lane - r)} "
            end += f"L{fmt(x1)},{fmt(b.y + NODE_H)}"
            return start + end, (x1 - COL / 2 + NODE_W / 2, lane - 4)
        x1 = b.x - 24  # down to the target's left side
        end = f"L{fmt(x1)},{fmt(lane)} C{fmt(b.x - 8)},{fmt(lane)} {fmt(x1)},{fmt(b.mid_y)} "
        end += f"{fmt(b.x)},{fmt(b.mid_y)}"
        return start + end, (x1 - COL / 2 + NODE_W, lane - 4)
    # back: up over the first row (or down under the last), along, and into the target
    x0, x1 = a.x + NODE_W / 2 + 12, b.x + NODE_W / 2 - 12
    if plan.route == "over":
        y0, y1, depth, turn = a.y, b.y, ceiling - plan.lane * ARC_STEP + 8, r
    else:
        y0, y1, depth, turn = a.y + NODE_H, b.y + NODE_H, floor + plan.lane * ARC_STEP, -r
    return (
        f"M{fmt(x0)},{fmt(y0)} L{fmt(x0)},{fmt(depth + turn)} "
        f"Q{fmt(x0)},{fmt(depth)} {fmt(x0 - r)},{fmt(depth)} L{fmt(x1 + r)},{fmt(depth)} "
        f"Q{fmt(x1)},{fmt(depth)} {fmt(x1)},{fmt(depth + turn)} L{fmt(x1)},{fmt(y1)}",
        ((x0 + x1) / 2, depth - 4),
    )


def _edge(
    transition: TransitionSpec,
    path: str,
    anchor: tuple[float, float] | None,
    taken: set[str],
) -> str:
    is_taken = transition.name in taken
    css = "mlc-transition is-taken" if is_taken else "mlc-transition"
    marker = "mlc-arrow-taken" if is_taken else "mlc-arrow"
    labels = ""
    if anchor is not None:
        x, y = anchor
        guard = guard_label(transition)
        name = shorten(transition.name, 24)
        labels = text(x, y - (11 if guard else 0), name, "mlc-transition-label")
        if guard:
            labels += text(x, y, shorten(guard, 26), "mlc-transition-guard")
    return (
        f'<g class="{css}" data-transition="{transition.name}">{title(_describe(transition))}'
        f'<path d="{path}" marker-end="url(#{marker})"/>{labels}</g>'
    )
