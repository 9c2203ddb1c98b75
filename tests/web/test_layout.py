"""The server-side layered layout: edges flow rightwards, nodes never overlap, crossings are removed where an
order without them exists, cycles terminate, and the same graph always gets the same picture."""

from __future__ import annotations

from catalog.web.layout import Layout, crossings, layered_layout

SIZE = (100.0, 40.0)


def sizes(*ids: str) -> dict[str, tuple[float, float]]:
    return dict.fromkeys(ids, SIZE)


def overlaps(layout: Layout) -> list[tuple[str, str]]:
    boxes = sorted(layout.boxes.items())
    found = []
    for i, (a, p) in enumerate(boxes):
        for b, q in boxes[i + 1 :]:
            if p.x < q.x + q.width and q.x < p.x + p.width and p.y < q.y + q.height and q.y < p.y + p.height:
                found.append((a, b))
    return found


def test_every_edge_points_right_and_nothing_overlaps() -> None:
    edges = [("raw", "clean"), ("clean", "report"), ("raw", "report"), ("other", "report")]

    layout = layered_layout(sizes("raw", "clean", "report", "other"), edges)

    for route in layout.routes:
        assert layout.boxes[route.source].x < layout.boxes[route.target].x, route
    assert overlaps(layout) == []
    assert layout.width >= max(b.x + b.width for b in layout.boxes.values())
    assert layout.height >= max(b.y + b.height for b in layout.boxes.values())


def test_a_long_edge_bends_through_the_columns_it_crosses() -> None:
    layout = layered_layout(sizes("a", "b", "c", "d"), [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])

    long_edge = next(r for r in layout.routes if (r.source, r.target) == ("a", "d"))

    assert len(long_edge.points) == 4, "a start, a bend in each of the two columns between, an end"
    assert [x for x, _ in long_edge.points] == sorted(x for x, _ in long_edge.points)


def test_crossings_are_removed_when_an_order_without_them_exists() -> None:
    # Listed so that the initial order crosses: a1 feeds b2, a2 feeds b1.
    edges = [("a1", "b2"), ("a2", "b1"), ("b1", "c1"), ("b2", "c2")]

    layout = layered_layout(sizes("a1", "a2", "b1", "b2", "c1", "c2"), edges, order=["a1", "a2", "b1", "b2"])

    chains = {(r.source, r.target): [r.source, r.target] for r in layout.routes}
    assert crossings(layout.layers, chains) == 0
    assert crossings([["a1", "a2"], ["b1", "b2"]], {("a1", "b2"): ["a1", "b2"], ("a2", "b1"): ["a2", "b1"]}) == 1


def test_a_cycle_is_drawn_with_one_edge_turned_back() -> None:
    layout = layered_layout(sizes("x", "y", "z"), [("x", "y"), ("y", "z"), ("z", "x")])

    assert len(layout.routes) == 3
    assert sum(1 for r in layout.routes if r.reversed) == 1
    assert overlaps(layout) == []


def test_sources_sit_next_to_their_first_consumer() -> None:
    # `late` only feeds the last step, so it belongs in the column just before it, not at the far left.
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("late", "d")]

    layout = layered_layout(sizes("a", "b", "c", "d", "late"), edges)

    assert layout.boxes["late"].x == layout.boxes["c"].x


def test_the_same_graph_gets_the_same_picture() -> None:
    edges = [("p", "q"), ("q", "r"), ("p", "r"), ("s", "q")]

    first = layered_layout(sizes("p", "q", "r", "s"), edges)
    second = layered_layout(sizes("s", "r", "q", "p"), list(reversed(edges)))

    assert first.boxes == second.boxes
    assert [r.points for r in first.routes] == [r.points for r in second.routes]


def test_isolated_nodes_and_an_empty_graph_are_laid_out() -> None:
    assert layered_layout({}, []).boxes == {}
    lone = layered_layout(sizes("only"), [])
    assert list(lone.boxes) == ["only"] and lone.routes == []
