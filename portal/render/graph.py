"""Producer → event → consumer graphs, laid out at build time for an inline SVG (no JavaScript, so they survive the
TechDocs sanitiser).

A graph is a few columns of boxes (left to right: where the data comes from, the events, who receives them) and
edges between neighbouring columns. Python computes every coordinate; ``graph.svg.j2`` only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
