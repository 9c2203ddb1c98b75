"""A layered (Sugiyama-style) layout of a directed graph, computed on the server, drawn left to right.

The steps are the classic ones: break cycles by reversing back edges, assign each node a layer (a column), put
dummy nodes where an edge spans several columns, order each column to reduce edge crossings (barycentre sweeps,
keeping the best order seen), then place nodes vertically near the average of their neighbours without overlap.
Everything is deterministic: the same graph always gets the same picture, so an audit report can be redrawn.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

LAYER_GAP = 70.0  # horizontal space between columns, for the edges
NODE_GAP = 24.0  # vertical space between nodes in a column
MARGIN = 20.0
SWEEPS = 12  # barycentre passes; small graphs settle in a few
PLACEMENT_ROUNDS = 8
DUMMY = "\0dummy"
DUMMY_SIZE = (0.0, 10.0)  # a long edge's bend: thin, but edges passing one column keep apart


@dataclass(frozen=True)
class Box:
    """A node's place: top-left corner and size."""

    x: float
    y: float
    width: float
    height: float

    @property
    def centre_y(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Route:
    """An edge's path from the right side of its source to the left side of its target."""

    source: str
    target: str
    points: list[tuple[float, float]]
    reversed: bool = False  # drawn against the flow because it closes a cycle


@dataclass
class Layout:
    boxes: dict[str, Box]
    routes: list[Route]
    width: float
    height: float
    layers: list[list[str]] = field(default_factory=list)  # real nodes only, top to bottom


def layered_layout(
    sizes: dict[str, tuple[float, float]], edges: Sequence[tuple[str, str]], *, order: Sequence[str] = ()
) -> Layout:
    """Lay out nodes (id -> (width, height)) and directed edges (source, target) in columns, flowing rightwards.

    Args:
        order: a preferred initial top-to-bottom order (e.g. by id); nodes not named keep sorted order.
    """
    nodes = list(dict.fromkeys([*order, *sorted(sizes)]))
    nodes = [n for n in nodes if n in sizes]
    unique = sorted({(s, t) for s, t in edges if s in sizes and t in sizes and s != t})
    acyclic, flipped = _break_cycles(nodes, unique)
    layer = _assign_layers(nodes, acyclic)
    columns, chains = _add_dummies(nodes, acyclic, layer)
    _reduce_crossings(columns, chains)
    boxes = _place(columns, chains, sizes)
    routes = [_route(s, t, chains[(s, t)], boxes, flipped) for s, t in acyclic]
    real = {n: box for n, box in boxes.items() if not n.startswith(DUMMY)}
    width = max((b.x + b.width for b in boxes.values()), default=0.0) + MARGIN
    height = max((b.y + b.height for b in boxes.values()), default=0.0) + MARGIN
    layers = [[n for n in column if not n.startswith(DUMMY)] for column in columns]
    return Layout(real, routes, width, height, layers)


def _break_cycles(nodes: list[str], edges: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
    """Reverse every back edge of a depth-first search, so the graph becomes acyclic. Returns the edges to lay
    out and the set of those that were flipped (given as laid out, target first)."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    for s, t in edges:
        successors[s].append(t)
    state: dict[str, int] = {}  # 1 on the stack, 2 finished
    back: set[tuple[str, str]] = set()
    for start in nodes:
        if start in state:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack.pop()
            if i < len(successors[node]):
                stack.append((node, i + 1))
                nxt = successors[node][i]
                if state.get(nxt) == 1:
                    back.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
    laid = sorted({(t, s) if (s, t) in back else (s, t) for s, t in edges})
    return laid, {(t, s) for s, t in back}


def _assign_layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the sources, then sources pulled right next to their first consumer (shorter edges)."""
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    for s, t in edges:
        preds[t].append(s)
        succs[s].append(t)
    topo = _topological(nodes, preds, succs)
    layer: dict[str, int] = {}
    for node in topo:
        layer[node] = max((layer[p] + 1 for p in preds[node]), default=0)
    for node in reversed(topo):
        if not preds[node] and succs[node]:
            layer[node] = min(layer[s] for s in succs[node]) - 1
    return layer


def _topological(nodes: list[str], preds: dict[str, list[str]], succs: dict[str, list[str]]) -> list[str]:
    waiting = {n: len(preds[n]) for n in nodes}
    ready = [n for n in nodes if waiting[n] == 0]
    result: list[str] = []
    while ready:
        node = ready.pop(0)
        result.append(node)
        for s in succs[node]:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    return result


def _add_dummies(
    nodes: list[str], edges: list[tuple[str, str]], layer: dict[str, int]
) -> tuple[list[list[str]], dict[tuple[str, str], list[str]]]:
    """Columns of node ids, with a dummy in every column a long edge crosses; each edge's chain of nodes."""
    depth = max(layer.values(), default=-1) + 1
    columns: list[list[str]] = [[] for _ in range(depth)]
    for node in nodes:
        columns[layer[node]].append(node)
    chains: dict[tuple[str, str], list[str]] = {}
    for s, t in edges:
        chain = [s]
        for column in range(layer[s] + 1, layer[t]):
            dummy = f"{DUMMY}:{s}->{t}:{column}"
            columns[column].append(dummy)
            chain.append(dummy)
        chains[(s, t)] = [*chain, t]
    return columns, chains


def _neighbours(chains: dict[tuple[str, str], list[str]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    left: dict[str, list[str]] = {}
    right: dict[str, list[str]] = {}
    for chain in chains.values():
        for a, b in itertools.pairwise(chain):
            right.setdefault(a, []).append(b)
            left.setdefault(b, []).append(a)
    return left, right


def crossings(columns: list[list[str]], chains: dict[tuple[str, str], list[str]]) -> int:
    """How many pairs of edge segments cross between adjacent columns."""
    _, right = _neighbours(chains)
    total = 0
    for here, there in itertools.pairwise(columns):
        position = {n: i for i, n in enumerate(there)}
        segments = [(i, position[b]) for i, a in enumerate(here) for b in right.get(a, []) if b in position]
        for k, (a1, b1) in enumerate(segments):
            for a2, b2 in segments[k + 1 :]:
                if (a1 - a2) * (b1 - b2) < 0:
                    total += 1
    return total


def _reduce_crossings(columns: list[list[str]], chains: dict[tuple[str, str], list[str]]) -> None:
    """Barycentre sweeps, alternately rightwards and leftwards, keeping the order with the fewest crossings."""
    left, right = _neighbours(chains)
    best = [list(c) for c in columns]
    best_count = crossings(columns, chains)
    for sweep in range(SWEEPS):
        if best_count == 0:
            break
        rightwards = sweep % 2 == 0
        indices = range(1, len(columns)) if rightwards else range(len(columns) - 2, -1, -1)
        for i in indices:
            fixed = columns[i - 1] if rightwards else columns[i + 1]
            links = left if rightwards else right
            position = {n: k for k, n in enumerate(fixed)}
            ranked = [(_barycentre(links.get(n, []), position, k), k, n) for k, n in enumerate(columns[i])]
            columns[i] = [n for _, _, n in sorted(ranked)]
        count = crossings(columns, chains)
        if count < best_count:
            best, best_count = [list(c) for c in columns], count
    columns[:] = best


def _barycentre(linked: list[str], position: dict[str, int], current: int) -> float:
    """The average position of a node's neighbours in the fixed column; its own place when it has none there."""
    seen = [position[n] for n in linked if n in position]
    return sum(seen) / len(seen) if seen else float(current)


def _place(
    columns: list[list[str]], chains: dict[tuple[str, str], list[str]], sizes: dict[str, tuple[float, float]]
) -> dict[str, Box]:
    """Column x from the widest node in each column; y near the neighbours' average, in order, never overlapping."""

    def size(node: str) -> tuple[float, float]:
        return sizes.get(node, DUMMY_SIZE)

    xs, x = [], MARGIN
    for column in columns:
        xs.append(x)
        x += max((size(n)[0] for n in column), default=0.0) + LAYER_GAP
    centre: dict[str, float] = {}
    for column in columns:
        y = MARGIN
        for node in column:
            height = size(node)[1]
            centre[node] = y + height / 2
            y += height + NODE_GAP
    left, right = _neighbours(chains)
    for round_ in range(PLACEMENT_ROUNDS):
        links = left if round_ % 2 == 0 else right
        for column in columns:
            wanted = [_average([centre[n] for n in links.get(node, [])], centre[node]) for node in column]
            for node, y in zip(column, _pack(column, wanted, size), strict=True):
                centre[node] = y
    top = min((centre[n] - size(n)[1] / 2 for c in columns for n in c), default=MARGIN)
    shift = MARGIN - top
    boxes = {}
    for i, column in enumerate(columns):
        for node in column:
            width, height = size(node)
            boxes[node] = Box(xs[i], centre[node] - height / 2 + shift, width, height)
    return boxes


def _average(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _pack(column: list[str], wanted: list[float], size: Callable[[str], tuple[float, float]]) -> list[float]:
    """Centres as close to `wanted` as the column's order and the gaps allow, keeping the column's order."""
    heights = [size(n)[1] for n in column]
    placed = list(wanted)
    for i in range(1, len(column)):
        lowest = placed[i - 1] + (heights[i - 1] + heights[i]) / 2 + NODE_GAP
        placed[i] = max(placed[i], lowest)
    # Pushing down only drifts the column; pull it back so its middle sits where its nodes wanted to be.
    drift = (sum(placed) - sum(wanted)) / len(placed) if placed else 0.0
    return [y - drift for y in placed]


def _route(source: str, target: str, chain: list[str], boxes: dict[str, Box], flipped: set[tuple[str, str]]) -> Route:
    first, last = boxes[source], boxes[target]
    points = [(first.x + first.width, first.centre_y)]
    for dummy in chain[1:-1]:
        box = boxes[dummy]
        points.append((box.x, box.centre_y))
    points.append((last.x, last.centre_y))
    if (source, target) in flipped:
        return Route(target, source, list(reversed(points)), reversed=True)
    return Route(source, target, points)
