"""The lineage graph of a model, drawn as inline SVG on the server.

Versions sit on one row in order; an arrow joins each to the parent it declares.
Datasets a version was trained on sit above it, the run that produced it below.
No JavaScript: the graph is part of the page, readable without scripts and printable.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup, escape

from modelsteward.registry.views import VersionView
from modelsteward.web.svg import document, fmt, shorten, text, title

MAX_VERSIONS = 24
STEP = 140
NODE_W, NODE_H = 104, 44
SIDE_W, SIDE_H = 172, 30
PAD = 24
DATA_Y, ROW_Y, RUN_Y = PAD, PAD + SIDE_H + 64, PAD + SIDE_H + 64 + NODE_H + 56

_DEFS = (
    "<defs>"
    '<marker id="lineage-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
    'class="lineage-arrowhead"/></marker>'
    "</defs>"
)


@dataclass(frozen=True)
class SideNode:
    label: str
    x: float
    versions: tuple[int, ...]


def datasets_of(version: VersionView) -> list[str]:
    """Declared lineage datasets, plus the training data reference when it is not among them."""
    found = list(version.lineage.get("datasets") or [])
    uri = (version.training_data or {}).get("uri")
    if uri and uri not in found:
        found.append(uri)
    return found


def _short_uri(uri: str) -> str:
    """The file and, when it fits, its folder: ``bureau/scores.parquet``."""
    parts = [part for part in uri.rstrip("/").split("/") if part]
    if len(parts) < 2:
        return shorten(uri, 24)
    pair = "/".join(parts[-2:])
    return pair if len(pair) <= 24 else shorten(parts[-1], 24)


def _spread(wanted: list[tuple[str, float, tuple[int, ...]]], gap: float) -> list[SideNode]:
    """Place side nodes near the versions they belong to, pushed apart so none overlap."""
    placed: list[SideNode] = []
    for label, x, versions in sorted(wanted, key=lambda item: item[1]):
        if placed and x < placed[-1].x + gap:
            x = placed[-1].x + gap
        placed.append(SideNode(label, x, versions))
    return placed


def _version_node(model: str, version: VersionView, x: float, selected: bool) -> str:
    css = ["lineage-version"]
    if selected:
        css.append("is-selected")
    if version.status != "active":
        css.append("is-archived")
    sub = version.flavor
    if version.aliases:
        more = len(version.aliases) - 1
        sub = version.aliases[0] + (f" +{more}" if more else "")
    href = f"/models/{quote(model)}/versions/{version.version}"
    label = f"version {version.version} ({version.flavor}, {version.status})"
    if version.aliases:
        label += ", aliases: " + ", ".join(version.aliases)
    return (
        f'<a href="{escape(href)}" class="{" ".join(css)}" aria-label="{escape(label)}">'
        f"{title(label)}"
        f'<rect x="{fmt(x - NODE_W / 2)}" y="{ROW_Y}" width="{NODE_W}" height="{NODE_H}" rx="8"/>'
        + text(x, ROW_Y + 19, f"v{version.version}", "lineage-version-label")
        + text(x, ROW_Y + 34, shorten(sub, 14), "lineage-version-sub")
        + "</a>"
    )


def _side_node(node: SideNode, y: float, css: str, kind: str) -> str:
    used_by = ", ".join(f"v{v}" for v in node.versions)
    return (
        f'<g class="{css}">{title(f"{kind}: {node.label} (used by {used_by})")}'
        f'<rect x="{fmt(node.x - SIDE_W / 2)}" y="{fmt(y)}" width="{SIDE_W}" height="{SIDE_H}" '
        'rx="15"/>' + text(node.x, y + 19, _short_uri(node.label), "lineage-side-label") + "</g>"
    )


def _parent_edge(x_parent: float, x_child: float) -> str:
    start, end = x_parent + NODE_W / 2, x_child - NODE_W / 2
    mid_y = ROW_Y + NODE_H / 2
    if x_child - x_parent <= STEP:
        path = f"M{fmt(start)},{fmt(mid_y)} L{fmt(end - 2)},{fmt(mid_y)}"
    else:  # skips over versions in between: arc above the row
        lift = min(52.0, 18 + (x_child - x_parent) / 12)
        a, b = x_parent + NODE_W / 4, x_child - NODE_W / 4
        path = f"M{fmt(a)},{ROW_Y} C{fmt(a)},{fmt(ROW_Y - lift)} {fmt(b)},{fmt(ROW_Y - lift)} "
        path += f"{fmt(b)},{ROW_Y - 2}"
    return f'<path d="{path}" class="lineage-parent" marker-end="url(#lineage-arrow)"/>'


def lineage_svg(model: str, versions: list[VersionView], selected: int | None) -> Markup:
    """``versions`` in any order; the newest ``MAX_VERSIONS`` are drawn."""
    shown = sorted(versions, key=lambda v: v.version)[-MAX_VERSIONS:]
    x_of = {v.version: PAD + NODE_W / 2 + i * STEP for i, v in enumerate(shown)}
    users: dict[str, list[int]] = {}
    for v in shown:
        for uri in datasets_of(v):
            users.setdefault(uri, []).append(v.version)
    data_nodes = _spread(
        [(uri, sum(x_of[n] for n in vs) / len(vs), tuple(vs)) for uri, vs in users.items()],
        SIDE_W + 16,
    )
    run_nodes = _spread(
        [
            (str(v.lineage["run"]), x_of[v.version], (v.version,))
            for v in shown
            if v.lineage.get("run")
        ],
        SIDE_W + 16,
    )
    # Side nodes spread left of the first version move the whole drawing right.
    shift = max([0.0] + [PAD + SIDE_W / 2 - n.x for n in data_nodes + run_nodes])
    if shift:
        x_of = {v: x + shift for v, x in x_of.items()}
        data_nodes = [SideNode(n.label, n.x + shift, n.versions) for n in data_nodes]
        run_nodes = [SideNode(n.label, n.x + shift, n.versions) for n in run_nodes]
    extent = max(
        [x + NODE_W / 2 for x in x_of.values()]
        + [n.x + SIDE_W / 2 for n in data_nodes + run_nodes]
        + [PAD + NODE_W]
    )
    body: list[str] = []
    for node in data_nodes:
        for n in node.versions:
            body.append(_link(node.x, DATA_Y + SIDE_H, x_of[n], ROW_Y, "lineage-data-edge"))
    for node in run_nodes:
        body.append(
            _link(node.x, RUN_Y, x_of[node.versions[0]], ROW_Y + NODE_H, "lineage-run-edge")
        )
    for v in shown:
        parent = v.lineage.get("parent_version")
        if parent in x_of:
            body.append(_parent_edge(x_of[parent], x_of[v.version]))
    body += [_side_node(n, DATA_Y, "lineage-dataset", "dataset") for n in data_nodes]
    body += [_side_node(n, RUN_Y, "lineage-run", "run") for n in run_nodes]
    body += [_version_node(model, v, x_of[v.version], v.version == selected) for v in shown]
    height = (RUN_Y + SIDE_H if run_nodes else ROW_Y + NODE_H) + PAD
    top = 0 if data_nodes else DATA_Y + SIDE_H + 8
    svg = document(
        extent + PAD,
        height - top,
        [f'<g transform="translate(0,{-top})">', *body, "</g>"],
        label=f"Lineage of {model}: {len(shown)} versions, {len(data_nodes)} datasets, "
        f"{len(run_nodes)} runs",
        css="lineage-graph",
        defs=_DEFS,
    )
    return svg


def _link(x1: float, y1: float, x2: float, y2: float, css: str) -> str:
    mid = (y1 + y2) / 2
    return (
        f'<path d="M{fmt(x1)},{fmt(y1)} C{fmt(x1)},{fmt(mid)} {fmt(x2)},{fmt(mid)} '
        f'{fmt(x2)},{fmt(y2)}" class="{css}"/>'
    )
