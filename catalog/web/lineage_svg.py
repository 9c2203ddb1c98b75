"""A lineage view drawn as SVG: layered on the server, coloured by effective classification, redaction kept.

The same drawing serves the explorer page (inline, with links that re-centre on a dataset) and the `.svg`
download for an audit report (standalone: its own styles, a legend and a caption saying who saw what, when).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape as escape_html

from catalog.services.lineage import LineageNode, LineageView
from catalog.web.layout import Layout, layered_layout

# Characters XML 1.0 refuses. Input is checked for them, but a record stored before that was may hold one, and
# a single one makes the whole drawing unreadable: draw U+FFFD in its place.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    return escape_html(_NOT_XML.sub("\ufffd", text))

# Sized for the label fonts (title 14 px, badge and detail 12 px) and the explorer's smallest "fit" scale (0.85):
# every label then reads at 10 px or more, and a title of two lines of LINE_CHARS stays inside its box.
DATASET_SIZE = (260.0, 80.0)
PROCESS_SIZE = (250.0, 80.0)
LINE_CHARS = 28  # a dataset's title line: 240 px of text room at about 8 px a character
PROCESS_LINE_CHARS = 24  # a process's: its rounded ends leave 206 px
PROCESS_INSET = 22.0  # where a process's text starts, clear of its rounded left end
DETAIL_CHARS = 34  # an id and owner line at 12 px
# Least to most restrictive. A scheme of another length is spread over these by rank.
PALETTE = ("#1b7a3a", "#1f5fa8", "#9c5000", "#b3202a")
TINTS = ("#e6f4ea", "#e3eefb", "#fdf0e0", "#fbe5e6")
REDACTED_LABEL = "Redacted dataset"


@dataclass
class GraphNode:
    """A node as drawn and as listed in the text alternative."""

    id: str
    kind: str  # DATASET or PROCESS
    label: str
    detail: str  # the id and owner, or the process kind
    classification: str | None = None
    colour: int | None = None  # palette index, from the classification's rank in the scheme
    href: str | None = None
    redacted: bool = False
    attested: str | None = None  # "DEIDENTIFIED by hamid.health: note", for an attested process
    root: bool = False
    depth: int = 0


@dataclass
class GraphEdge:
    """Data flows from `source` to `target`: an input into its process, or a process into its output."""

    source: str
    target: str
    relation: str  # "input to" or "generated"


@dataclass
class LineageDrawing:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    layout: Layout
    scheme: Sequence[str] = field(default_factory=tuple)

    def node(self, id: str) -> GraphNode:
        return next(n for n in self.nodes if n.id == id)


def colour_index(rank: int | None, scheme: Sequence[str]) -> int | None:
    """Which palette entry a classification rank gets: the scheme spread evenly from green to red."""
    if rank is None or not scheme:
        return None
    if len(scheme) == 1:
        return 0
    return round(min(rank, len(scheme) - 1) * (len(PALETTE) - 1) / (len(scheme) - 1))


def graph_nodes(view: LineageView, scheme: Sequence[str], href: Callable[[str], str]) -> list[GraphNode]:
    """The view's datasets and processes as drawable nodes. Hidden datasets stay, redacted."""
    nodes = []
    for node in view.nodes:
        if node.kind == "DATASET":
            nodes.append(_dataset_node(node, view.root, scheme, href))
        elif node.kind == "PROCESS" and node.process is not None:
            process = node.process
            attested = None
            if process.attested_identifiability is not None:
                note = f": {process.attestation_note}" if process.attestation_note else ""
                attested = f"{process.attested_identifiability.value} by {process.attested_by}{note}"
            nodes.append(
                GraphNode(
                    id=node.id,
                    kind="PROCESS",
                    label=process.name,
                    detail=f"{process.kind.value} process",
                    attested=attested,
                    depth=node.depth,
                )
            )
    return nodes


def _dataset_node(node: LineageNode, root: str, scheme: Sequence[str], href: Callable[[str], str]) -> GraphNode:
    dataset = node.dataset
    if node.redacted or dataset is None:
        return GraphNode(
            id=node.id, kind="DATASET", label=REDACTED_LABEL, detail=node.id, redacted=True, depth=node.depth
        )
    effective = dataset.effective_classification or dataset.classification
    rank = list(scheme).index(effective) if effective in scheme else len(scheme) - 1
    return GraphNode(
        id=node.id,
        kind="DATASET",
        label=dataset.title,
        detail=f"{node.id} · {dataset.owner_agency_id}",
        classification=effective,
        colour=colour_index(rank, scheme),
        href=href(node.id),
        root=node.id == root,
        depth=node.depth,
    )


def graph_edges(view: LineageView) -> list[GraphEdge]:
    """The view's edges turned the way data flows (PROV edges point from the later thing to the earlier one)."""
    edges = []
    for rel, source, target in view.edges:
        if rel == "USED":
            edges.append(GraphEdge(target, source, "input to"))
        elif rel == "GENERATED_BY":
            edges.append(GraphEdge(target, source, "generated"))
    return sorted(edges, key=lambda e: (e.source, e.target))


def draw(view: LineageView, scheme: Sequence[str], href: Callable[[str], str]) -> LineageDrawing:
    """Lay out the view's graph. Rendering to SVG is `svg()`."""
    nodes = graph_nodes(view, scheme, href)
    edges = graph_edges(view)
    sizes = {n.id: DATASET_SIZE if n.kind == "DATASET" else PROCESS_SIZE for n in nodes}
    order = [n.id for n in sorted(nodes, key=lambda n: (n.depth, n.id))]
    layout = layered_layout(sizes, [(e.source, e.target) for e in edges], order=order)
    return LineageDrawing(nodes, edges, layout, tuple(scheme))


def svg(drawing: LineageDrawing, *, title: str, caption: str = "", standalone: bool = False) -> str:
    """The drawing as an SVG document. `standalone` adds the XML prolog, embedded styles and the legend."""
    layout = drawing.layout
    legend_height = 70.0 if standalone else 0.0
    width = max(layout.width, 560.0 if standalone else 0.0)
    height = layout.height + legend_height
    parts = []
    if standalone:
        parts.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    parts.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" class="lineage" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
        f'role="group" aria-labelledby="lineage-title lineage-desc">'
        f'<title id="lineage-title">{escape(title)}</title>'
        f'<desc id="lineage-desc">{escape(caption or _summary(drawing))}</desc>'
    )
    parts.append(_defs(standalone))
    parts.append('<g class="edges">')
    parts.extend(_edge(route.points) for route in layout.routes)
    parts.append('</g><g class="nodes">')
    parts.extend(_node(node, layout.boxes[node.id].x, layout.boxes[node.id].y) for node in drawing.nodes)
    parts.append("</g>")
    if standalone:
        parts.append(_legend(drawing.scheme, layout.height, caption))
    parts.append("</svg>")
    return "".join(parts)


def _summary(drawing: LineageDrawing) -> str:
    redacted = sum(1 for n in drawing.nodes if n.redacted)
    datasets = sum(1 for n in drawing.nodes if n.kind == "DATASET")
    processes = len(drawing.nodes) - datasets
    return (
        f"{datasets} datasets ({redacted} redacted) and {processes} processes, "
        f"{len(drawing.edges)} edges. A table of the same nodes and edges follows the drawing."
    )


STYLE = """
.lineage text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #1d2433; }
.lineage .edge { fill: none; stroke: #7a8599; stroke-width: 1.6; }
.lineage .node rect, .lineage .node path.shape { stroke-width: 2; }
.lineage .title { font-size: 14px; font-weight: 600; }
.lineage .detail { font-size: 12px; fill: #4a5568; }
.lineage .badge { font-size: 12px; font-weight: 700; letter-spacing: .02em; }
.lineage .process .shape { fill: #f4f5f8; stroke: #5b6478; }
.lineage .process.attested .shape { fill: #eef8f1; stroke: #1b7a3a; }
.lineage .redacted rect { fill: url(#hatch); stroke: #8a8f98; stroke-dasharray: 6 4; }
.lineage .redacted .title { fill: #4a4f58; }
.lineage .root rect { stroke-width: 4; }
.lineage a:focus rect, .lineage .node:focus rect, .lineage .node:focus .shape { stroke: #111; stroke-width: 4; }
.lineage a:focus, .lineage .node:focus { outline: none; }
"""


def _palette_css() -> str:
    rules = [
        f".lineage .c{i} rect {{ fill: {TINTS[i]}; stroke: {PALETTE[i]}; }}\n"
        f".lineage .c{i} .badge {{ fill: {PALETTE[i]}; }}"
        for i in range(len(PALETTE))
    ]
    return "\n".join(rules)


def _defs(standalone: bool) -> str:
    style = f"<style>{STYLE}{_palette_css()}</style>" if standalone else ""
    return (
        f"<defs>{style}"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#7a8599"/></marker>'
        '<pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#eceef1"/><line x1="0" y1="0" x2="0" y2="8" stroke="#d3d6db" '
        'stroke-width="4"/></pattern></defs>'
    )


def _edge(points: list[tuple[float, float]]) -> str:
    """A smooth path through the route's points: horizontal tangents at every bend."""
    (x0, y0), rest = points[0], points[1:]
    d = [f"M{_n(x0)},{_n(y0)}"]
    for x1, y1 in rest:
        mid = (x0 + x1) / 2
        d.append(f"C{_n(mid)},{_n(y0)} {_n(mid)},{_n(y1)} {_n(x1)},{_n(y1)}")
        x0, y0 = x1, y1
    return f'<path class="edge" d="{" ".join(d)}" marker-end="url(#arrow)"/>'


def _lines(text: str, count: int, width: int = LINE_CHARS) -> list[str]:
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > count:
        lines = [*lines[: count - 1], textwrap.shorten(" ".join(lines[count - 1 :]), width, placeholder="…")]
    return lines


def _node(node: GraphNode, x: float, y: float) -> str:
    if node.kind == "PROCESS":
        return _process(node, x, y)
    width, height = DATASET_SIZE
    classes = ["node", "dataset"]
    if node.redacted:
        classes.append("redacted")
    elif node.colour is not None:
        classes.append(f"c{node.colour}")
    if node.root:
        classes.append("root")
    badge = "REDACTED" if node.redacted else (node.classification or "")
    title_lines = _lines(node.label, 2)
    text = [f'<text class="badge" x="{_n(x + 10)}" y="{_n(y + 18)}">{escape(badge)}</text>']
    for i, line in enumerate(title_lines):
        text.append(f'<text class="title" x="{_n(x + 10)}" y="{_n(y + 37 + i * 17)}">{escape(line)}</text>')
    detail_y = y + height - 9
    text.append(f'<text class="detail" x="{_n(x + 10)}" y="{_n(detail_y)}">{escape(_short(node.detail))}</text>')
    tooltip = _tooltip(node)
    body = (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" rx="6"/>'
        f"<title>{escape(tooltip)}</title>{''.join(text)}"
    )
    data = f'data-id="{escape(node.id)}" data-kind="dataset"'
    if node.href:
        return (
            f'<a class="{" ".join(classes)}" href="{escape(node.href)}" {data} '
            f'aria-label="{escape(tooltip)}">{body}</a>'
        )
    return f'<g class="{" ".join(classes)}" tabindex="0" role="img" {data} aria-label="{escape(tooltip)}">{body}</g>'


def _process(node: GraphNode, x: float, y: float) -> str:
    width, height = PROCESS_SIZE
    classes = ["node", "process", *(["attested"] if node.attested else [])]
    r = height / 2
    shape = (
        f'<path class="shape" d="M{_n(x + r)},{_n(y)} H{_n(x + width - r)} '
        f"A{_n(r)},{_n(r)} 0 0 1 {_n(x + width - r)},{_n(y + height)} H{_n(x + r)} "
        f'A{_n(r)},{_n(r)} 0 0 1 {_n(x + r)},{_n(y)} z"/>'
    )
    kind = node.detail.removesuffix(" process")
    badge = f"{kind} ✓ ATTESTED" if node.attested else kind
    left = x + PROCESS_INSET
    text = [f'<text class="badge" x="{_n(left)}" y="{_n(y + 18)}">{escape(badge)}</text>']
    for i, line in enumerate(_lines(node.label, 2, PROCESS_LINE_CHARS)):
        text.append(f'<text class="title" x="{_n(left)}" y="{_n(y + 37 + i * 17)}">{escape(line)}</text>')
    text.append(f'<text class="detail" x="{_n(left)}" y="{_n(y + height - 9)}">{escape(_short(node.id, 30))}</text>')
    tooltip = _tooltip(node)
    return (
        f'<g class="{" ".join(classes)}" tabindex="0" role="img" data-id="{escape(node.id)}" data-kind="process" '
        f'aria-label="{escape(tooltip)}">{shape}<title>{escape(tooltip)}</title>{"".join(text)}</g>'
    )


def _tooltip(node: GraphNode) -> str:
    if node.redacted:
        return f"{REDACTED_LABEL} {node.id}: you may not see this dataset's metadata"
    if node.kind == "PROCESS":
        attested = f"; attested {node.attested}" if node.attested else ""
        return f"{node.detail} {node.label} ({node.id}){attested}"
    root = " (the dataset explored)" if node.root else ""
    return f"{node.label} ({node.detail}), effective classification {node.classification}{root}"


def _short(text: str, limit: int = DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _legend(scheme: Sequence[str], top: float, caption: str) -> str:
    y = top + 8
    parts = [f'<g class="legend" transform="translate(20,{_n(y)})">']
    x = 0.0
    for rank, name in enumerate(scheme):
        index = colour_index(rank, scheme) or 0
        parts.append(
            f'<rect x="{_n(x)}" y="0" width="14" height="14" rx="3" fill="{TINTS[index]}" stroke="{PALETTE[index]}"/>'
            f'<text class="detail" x="{_n(x + 19)}" y="11">{escape(name)}</text>'
        )
        x += 34 + len(name) * 6.5
    parts.append(
        f'<rect x="{_n(x)}" y="0" width="14" height="14" rx="3" fill="url(#hatch)" stroke="#8a8f98"/>'
        f'<text class="detail" x="{_n(x + 19)}" y="11">redacted</text>'
        f'<text class="detail" x="{_n(x + 90)}" y="11">✓ ATTESTED: de-identification or aggregation attested by a '
        f"steward</text>"
    )
    parts.append(f'<text class="detail" x="0" y="36">{escape(caption)}</text></g>')
    return "".join(parts)


def _n(value: float) -> str:
    """Coordinates rounded to a tenth: smaller files, and the same text for the same layout."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
