"""The claim state diagram as SVG, drawn from the transition table on the server.

The docs embed the same table as Mermaid text (:mod:`salus.apps.mutual_aid.diagram`);
pages cannot render Mermaid without loading its library from a CDN, so the node draws
the diagram itself. Layout, in the spirit of a layered (Sugiyama) drawing but small
enough to read: each state's row is the length of the longest path reaching it from
the start (self-loops ignored: the table has no other cycles), states within a row are
ordered by the mean column of their predecessors, every transition is an arrow labelled
with its action, and a self-loop is an arc on the box's right. Arrows that skip rows
bend sideways so they do not cross the boxes in between.

Pure: a function of :data:`~salus.apps.mutual_aid.claims.CLAIM_TRANSITIONS`.
"""

from __future__ import annotations

import functools
from typing import Final
from xml.sax.saxutils import escape, quoteattr

from salus.apps.mutual_aid.claims import CLAIM_TRANSITIONS, FINAL_STATES

__all__ = ["claim_diagram_svg", "diagram_layout"]

START: Final = "[*]"
END: Final = "[end]"
_BOX_W: Final = 150
_BOX_H: Final = 36
_COL: Final = 210
_ROW: Final = 96
_MARGIN: Final = 40
_KIND: Final = {
    "approved": "ok",
    "included": "ok",
    "paid": "ok",
    "rejected": "bad",
    "withdrawn": "muted",
}


def _edges() -> list[tuple[str, str, str]]:
    """``(source, target, label)`` of every move, parallel moves merged into one arrow
    ("vote / close_jury"), plus the final states' ends."""
    merged: dict[tuple[str, str], list[str]] = {}
    for t in CLAIM_TRANSITIONS:
        actions = merged.setdefault((t.source or START, t.target), [])
        if t.action not in actions:
            actions.append(t.action)
    edges = [(source, target, " / ".join(actions)) for (source, target), actions in merged.items()]
    return edges + [(state, END, "") for state in sorted(FINAL_STATES)]


@functools.cache
def diagram_layout() -> dict[str, tuple[int, int]]:
    """``{state: (row, column)}``: column 0 is the spine, -1 and 1 the sides.

    The spine is the longest path from the start to the end; every other state hangs
    beside the spine one row below its lowest parent, alternating left and right.
    """
    edges = [(s, t) for s, t, _ in _edges() if s != t]
    nodes = list(dict.fromkeys([START, *(n for edge in edges for n in edge)]))
    longest: dict[str, list[str]] = {START: [START]}
    for _ in nodes:  # longest paths by relaxation (acyclic once self-loops are dropped)
        for source, target in edges:
            if source in longest and len(longest[source]) + 1 > len(longest.get(target, [])):
                longest[target] = [*longest[source], target]
    spine = longest[END]
    layout = {node: (row, 0) for row, node in enumerate(spine)}
    side = -1
    for node in nodes:
        if node in layout:
            continue
        parents = [layout[s][0] for s, t in edges if t == node and s in layout]
        layout[node] = (max(parents) + 1, side)
        side = -side
    return layout


def _centre(node: str) -> tuple[float, float]:
    row, column = diagram_layout()[node]
    return _MARGIN + _BOX_W / 2 + (column + 1) * _COL, _MARGIN + _BOX_H / 2 + row * _ROW


def _text(x: float, y: float, text: str, anchor: str = "middle") -> str:
    return (
        f'<text class="edge-label" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
        f'font-size="11" fill="currentColor">{escape(text)}</text>'
    )


def _arrow(path: str) -> str:
    return f'<path d="{path}" fill="none" stroke="currentColor" marker-end="url(#arrow)"/>'


def _edge(source: str, target: str, label: str) -> str:
    layout = diagram_layout()
    (x1, y1), (x2, y2) = _centre(source), _centre(target)
    half_w, half_h = _BOX_W / 2, _BOX_H / 2
    if source == target:  # a self-loop: an arc over the box's top right-hand corner
        x, y = x1 + half_w, y1 - half_h
        path = (
            f"M{x - 34:.1f},{y:.1f} C{x - 30:.1f},{y - 26:.1f} "
            f"{x + 22:.1f},{y - 14:.1f} {x:.1f},{y + 8:.1f}"
        )
        return _arrow(path) + _text(x + 12, y - 8, label, "start")
    column_from, column_to = layout[source][1], layout[target][1]
    end_y = y2 - (9 if target == END else half_h)
    if column_from == column_to == 0:
        start_y = y1 + (9 if source == START else half_h)
        if layout[target][0] - layout[source][0] == 1:
            return _arrow(f"M{x1:.1f},{start_y:.1f} L{x2:.1f},{end_y:.1f}") + _text(
                x1 + 8, (start_y + end_y) / 2 + 4, label, "start"
            )
        # Skipping a row on the spine: bulge to the left, label at the bulge.
        bulge = x1 - half_w - 50
        path = (
            f"M{x1 - half_w + 20:.1f},{start_y:.1f} C{bulge:.1f},{start_y + 30:.1f} "
            f"{bulge:.1f},{end_y - 30:.1f} {x2 - half_w + 20:.1f},{end_y:.1f}"
        )
        return _arrow(path) + _text(bulge + 8, (start_y + end_y) / 2 - 14, label, "end")
    if column_from == 0:  # from the spine to a side state: leave by the side of the box
        direction = 1 if column_to > 0 else -1
        sx = x1 + direction * half_w
        sy = y1 + 6
        path = f"M{sx:.1f},{sy:.1f} C{x2:.1f},{sy:.1f} {x2:.1f},{sy:.1f} {x2:.1f},{end_y:.1f}"
        anchor = "start" if direction > 0 else "end"
        return _arrow(path) + _text(sx + direction * 6, sy + 14, label, anchor)
    # From a side state down to the end: curve back towards the spine.
    start_y = y1 + half_h
    path = (
        f"M{x1:.1f},{start_y:.1f} C{x1:.1f},{end_y:.1f} "
        f"{x2:.1f},{end_y - 40:.1f} {x2:.1f},{end_y:.1f}"
    )
    return _arrow(path)


def _node(node: str) -> str:
    x, y = _centre(node)
    if node in (START, END):
        inner = '<circle r="5" fill="currentColor"/>' if node == END else ""
        return (
            f'<g class="terminal" transform="translate({x:.1f},{y:.1f})">'
            f'<circle r="9" fill="{"none" if node == END else "currentColor"}" '
            f'stroke="currentColor" stroke-width="1.5"/>{inner}</g>'
        )
    kind = _KIND.get(node, "step")
    return (
        f'<g class="state state-{kind}" data-state={quoteattr(node)}>'
        f'<rect x="{x - _BOX_W / 2:.1f}" y="{y - _BOX_H / 2:.1f}" width="{_BOX_W}" '
        f'height="{_BOX_H}" rx="8" fill="{_FILL[kind]}" stroke="{_STROKE[kind]}" '
        'stroke-width="1.5"/>'
        f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" font-size="14" '
        f'font-weight="600" fill="#1d2330">{escape(node)}</text></g>'
    )


_FILL: Final = {"ok": "#e4f4e8", "bad": "#fbe9e7", "muted": "#eceff3", "step": "#e3f2f1"}
_STROKE: Final = {"ok": "#1d7a3a", "bad": "#b3261e", "muted": "#5b6475", "step": "#0b6e6e"}


@functools.cache
def claim_diagram_svg() -> str:
    """The diagram as a standalone SVG document (no scripts, no external references)."""
    layout = diagram_layout()
    width = max(_centre(n)[0] for n in layout) + _BOX_W / 2 + _MARGIN
    height = max(_centre(n)[1] for n in layout) + _BOX_H / 2 + _MARGIN
    arrows = [_edge(source, target, label) for source, target, label in _edges()]
    title = "Claim states of a mutual-aid plan, generated from CLAIM_TRANSITIONS"
    return "".join(
        [
            '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="title" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
            'color="#3b4252" font-family="system-ui, sans-serif">',
            f'<title id="title">{escape(title)}</title>',
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            'fill="currentColor"/></marker></defs>',
            f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
            *arrows,
            *(_node(node) for node in layout),
            "</svg>",
        ]
    )
