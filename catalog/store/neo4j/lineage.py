"""Cypher for lineage walks (upstream, downstream), impact on agreements, and the shortest path between datasets."""

from __future__ import annotations

from typing import Any

from catalog.store.base import LineageDirection
from catalog.store.query import LineageGraph

# Beyond this many dataset hops the lineage pattern is left unbounded (the shortest-path search ends anyway).
_MAX_BOUNDED_DEPTH = 1000

# Upstream follows (dataset)-[:GENERATED_BY]->(process)-[:USED]->(dataset): both edges point the way we walk,
# and the schema's endpoints make any such directed path alternate dataset/process. Downstream walks back.
_LINEAGE_WAYS: dict[str, tuple[str, str, str]] = {
    # direction: (its name in results, the walk's arrow, one dataset hop from d through proc to o)
    "UPSTREAM": (
        "UPSTREAM",
        "-[:GENERATED_BY|USED]->",
        "(d)-[:GENERATED_BY]->(proc:Process)-[:USED]->(o:Dataset)",
    ),
    "DOWNSTREAM": (
        "DOWNSTREAM",
        "<-[:GENERATED_BY|USED]-",
        "(d)<-[:USED]-(proc:Process)<-[:GENERATED_BY]-(o:Dataset)",
    ),
}


def _lineage_branch(direction: str, depth: int) -> str:
    """One direction of the walk: every dataset within reach at its shortest depth, plus its next hops.

    `ANY SHORTEST` is a breadth-first search per reached dataset, so cycles and diamonds cost nothing extra.
    Depth cannot be a parameter in a quantifier; it is a validated int from our code, never from input text.
    """
    name, arrow, hop = _LINEAGE_WAYS[direction]
    assert isinstance(depth, int) and depth > 0, depth
    quantifier = f"{{0,{2 * depth}}}" if depth <= _MAX_BOUNDED_DEPTH else "{0,}"
    return (
        f"MATCH (s:Dataset {{id: $start}}) "
        f"MATCH path = ANY SHORTEST (s){arrow}{quantifier}(d:Dataset) "
        f"WITH d, length(path) / 2 AS level "
        f"OPTIONAL MATCH {hop} WHERE level < $depth "
        f"RETURN '{name}' AS way, d.id AS dataset, level, collect([proc.id, o.id]) AS hops"
    )


def _lineage_query(direction: LineageDirection, depth: int) -> str:
    if depth == 0:  # a path quantifier may not be {0,0}; the answer is the start alone, if it exists
        return "MATCH (s:Dataset {id: $start}) RETURN 'UPSTREAM' AS way, s.id AS dataset, 0 AS level, [] AS hops"
    ways = ("UPSTREAM", "DOWNSTREAM") if direction == "BOTH" else (direction,)
    return " UNION ALL ".join(_lineage_branch(way, depth) for way in ways)


def _quantifier(depth: int) -> str:
    """Two edges per dataset hop; a validated int from our code, never from input text."""
    assert isinstance(depth, int) and depth > 0, depth
    return f"{{0,{2 * depth}}}" if depth <= _MAX_BOUNDED_DEPTH else "{0,}"


def _impact_query(depth: int) -> str:
    """Downstream datasets at their shortest depth, each with the agreements covering it and their recipients."""
    if depth == 0:
        reach = "MATCH (d:Dataset {id: $start}) WITH d, 0 AS level "
    else:
        reach = (
            f"MATCH (s:Dataset {{id: $start}}) "
            f"MATCH path = ANY SHORTEST (s)<-[:GENERATED_BY|USED]-{_quantifier(depth)}(d:Dataset) "
            f"WITH d, length(path) / 2 AS level "
        )
    # One record for the whole answer: the driver's cost per record dwarfs the query's for a thousand rows.
    return (
        reach + "OPTIONAL MATCH (a:SharingAgreement)-[:COVERS]->(d) "
        "OPTIONAL MATCH (a)-[:RECIPIENT]->(r:Agency) "
        "WITH d, level, collect([a.id, a.status, r.id, a.valid_until]) AS agreements "
        "RETURN collect([d.id, level, agreements]) AS reached"
    )


def _path_query(depth: int) -> str:
    """Every shortest downstream path from source to target; the one whose id list sorts first."""
    if depth == 0:
        return (
            "MATCH (a:Dataset {id: $source}), (b:Dataset {id: $target}) RETURN CASE WHEN a = b THEN [a.id] END AS ids"
        )
    return (
        "MATCH (a:Dataset {id: $source}), (b:Dataset {id: $target}) "
        f"OPTIONAL MATCH p = ALL SHORTEST (a)<-[:GENERATED_BY|USED]-{_quantifier(depth)}(b) "
        "WITH [n IN nodes(p) | n.id] AS ids ORDER BY ids LIMIT 1 RETURN ids"
    )


def _add_lineage_row(graph: LineageGraph, way: str, dataset: str, level: int, hops: list[list[Any]]) -> None:
    graph.datasets[dataset] = min(level, graph.datasets.get(dataset, level))
    for process, other in hops:
        if process is None:  # the OPTIONAL MATCH found no hop (or the depth bound was reached)
            continue
        graph.processes[process] = min(level, graph.processes.get(process, level))
        if way == "UPSTREAM":
            graph.edges.update({("GENERATED_BY", dataset, process), ("USED", process, other)})
        else:
            graph.edges.update({("USED", process, dataset), ("GENERATED_BY", other, process)})
