"""Producer → event → consumer graphs, laid out at build time for an inline SVG (no JavaScript, so they survive the
TechDocs sanitiser).

A graph is a few columns of boxes (left to right: where the data comes from, the events, who receives them) and
edges between neighbouring columns. Python computes every coordinate and writes the SVG (:attr:`Layout.html`: a
template macro per graph cost more than laying it out), every text through the templates' escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from .markup import written
from .styles import style

# Four columns (internal event, producer, event, consumers) fit mkdocs-material's content column (~700 px) at
# their natural size; a wider graph scrolls sideways.
BOX_WIDTH = 144
BOX_HEIGHT = 30
ROW_GAP = 10
COLUMN_GAP = 24
PADDING = 4
MAX_LABEL = 26  # characters at 10px (about 5.5 px each) fit the box


@dataclass(frozen=True, slots=True)
class GraphNode:
    id: str
    label: str
    kind: str  # "domain" | "event" | "internal" | "external"
    href: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class PlacedNode:
    node: GraphNode
    x: int
    y: int

    @property
    def text(self) -> str:
        label = self.node.label
        return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"

    @property
    def title(self) -> str:
        return self.node.label + (f" — {self.node.detail}" if self.node.detail else "")


@dataclass(frozen=True, slots=True)
class PlacedEdge:
    path: str
    label: str | None


@dataclass(frozen=True, slots=True)
class Layout:
    id: str
    width: int
    height: int
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]
    description: str
    box_width: int = BOX_WIDTH
    box_height: int = BOX_HEIGHT

    @property
    def html(self) -> Markup:
        """The graph as raw HTML: an inline SVG and its caption."""
        graph = written(self.id)
        width, height = written(self.width), written(self.height)
        description = written(self.description)
        out = [f'<div class="ed-graph" style="{_GRAPH}"><div class="ed-graph__canvas" data-search-exclude '
               f'style="{_CANVAS}"><svg xmlns="http://www.w3.org/2000/svg" style="{_SVG}" role="img" '
               f'aria-labelledby="{graph}-title" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
               f'<title id="{graph}-title">{description}</title><defs><marker id="{graph}-arrow" viewBox="0 0 10 10" '
               f'refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path '
               f'd="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs>\n']
        for edge in self.edges:
            out.append(f'<path class="ed-graph__edge" d="{written(edge.path)}" fill="none" stroke="currentColor" '
                       f'stroke-width="1.5" marker-end="url(#{graph}-arrow)"/>\n')
        box_width, box_height = written(self.box_width), written(self.box_height)
        for placed in self.nodes:
            node = placed.node
            if node.href:
                out.append(f'<a href="{written(node.href)}">')
            stroke = "2.2" if node.kind == "event" else "1.2"
            dashed = ' stroke-dasharray="4 3"' if node.kind in ("internal", "subscriber") else ""
            out.append(f'<g class="ed-graph__node ed-graph__node--{written(node.kind)}"><title>{written(placed.title)}'
                       f'</title><rect x="{written(placed.x)}" y="{written(placed.y)}" width="{box_width}" '
                       f'height="{box_height}" rx="6" fill="none" stroke="currentColor" stroke-width="{stroke}"'
                       f'{dashed}/>'
                       f'<text x="{written(placed.x + self.box_width // 2)}" '
                       f'y="{written(placed.y + self.box_height // 2 + 4)}" text-anchor="middle" font-size="10" '
                       f'fill="currentColor">{written(placed.text)}</text></g>')
            if node.href:
                out.append("</a>")
        out.append(f'</svg></div><p class="ed-graph__caption" data-search-exclude style="{_CAPTION}">{description}'
                   f'</p></div>')
        return Markup("".join(out))


_GRAPH, _CANVAS, _SVG, _CAPTION = (style(name) for name in ("graph", "graph-canvas", "graph-svg", "graph-caption"))


def layout(graph_id: str, columns: Sequence[Sequence[GraphNode]], edges: Sequence[tuple[str, str, str | None]],
           description: str) -> Layout:
    """Place ``columns`` of nodes left to right, each column centred vertically, and route ``edges``
    (source id, target id, label) as curves from the right side of the source to the left side of the target."""
    columns = [list(dict.fromkeys(column)) for column in columns if column]
    rows = max((len(c) for c in columns), default=1)
    height = PADDING * 2 + rows * BOX_HEIGHT + (rows - 1) * ROW_GAP
    width = PADDING * 2 + len(columns) * BOX_WIDTH + (len(columns) - 1) * COLUMN_GAP
    placed: dict[str, PlacedNode] = {}
    for index, column in enumerate(columns):
        x = PADDING + index * (BOX_WIDTH + COLUMN_GAP)
        used = len(column) * BOX_HEIGHT + (len(column) - 1) * ROW_GAP
        top = (height - used) // 2
        for row, node in enumerate(column):
            placed.setdefault(node.id, PlacedNode(node, x, top + row * (BOX_HEIGHT + ROW_GAP)))
    routed = []
    for source, target, label in dict.fromkeys(edges):
        a, b = placed.get(source), placed.get(target)
        if a is None or b is None:
            continue
        x1, y1 = a.x + BOX_WIDTH, a.y + BOX_HEIGHT // 2
        x2, y2 = b.x - 4, b.y + BOX_HEIGHT // 2
        middle = (x1 + x2) // 2
        routed.append(PlacedEdge(f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}", label))
    return Layout(graph_id, width, height, tuple(placed.values()), tuple(routed), description)
