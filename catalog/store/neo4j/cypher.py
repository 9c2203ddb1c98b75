"""Cypher for nodes and edges: one small named builder per statement, and the whitelisted identifiers they use."""

from __future__ import annotations

from catalog.store.query import EdgeDirection
from catalog.store.schema import ENDPOINTS, Label, Rel


def _label(label: Label) -> str:
    """A label for Cypher text, only ever from the whitelist."""
    return Label(label).value


def _rel(rel: Rel) -> str:
    """A relationship type for Cypher text, only ever from the whitelist."""
    return Rel(rel).value


def _create_query(label: Label) -> str:
    # Creates only when absent: no row back means it existed. A racing creator hits the constraint instead.
    return (
        f"OPTIONAL MATCH (existing:{_label(label)} {{id: $id}}) "
        f"WITH existing WHERE existing IS NULL "
        f"CREATE (n:{_label(label)} {{id: $id}}) SET n += $props RETURN true AS created"
    )


def _merge_query(label: Label) -> str:
    # ON CREATE runs under the uniqueness lock, so `created` is right even when two writers race.
    return (
        f"MERGE (n:{_label(label)} {{id: $id}}) ON CREATE SET n._created = true "
        "WITH n, coalesce(n._created, false) AS created "
        "REMOVE n._created SET n += $props RETURN created"
    )


def _update_query(label: Label) -> str:
    return f"MATCH (n:{_label(label)} {{id: $id}}) SET n += $props RETURN n.id AS id"


def _get_query(label: Label) -> str:
    return f"MATCH (n:{_label(label)}) WHERE n.id IN $ids RETURN n.id AS id, properties(n) AS props"


def _delete_query(label: Label) -> str:
    return f"MATCH (n:{_label(label)} {{id: $id}}) DETACH DELETE n RETURN count(*) AS deleted"


def _exists_query(label: Label) -> str:
    return f"MATCH (n:{_label(label)} {{id: $id}}) RETURN count(n) > 0 AS found"


def _merge_edge_query(rel: Rel) -> str:
    source_label, target_label = ENDPOINTS[rel]
    return (
        f"MATCH (a:{_label(source_label)} {{id: $source}}) MATCH (b:{_label(target_label)} {{id: $target}}) "
        f"MERGE (a)-[r:{_rel(rel)}]->(b) SET r += $props RETURN true AS merged"
    )


def _merge_edges_part(rel: Rel, i: int) -> str:
    """A subquery merging the edges in parameter $e<i> (pairs of ids), counting them as c<i>."""
    source_label, target_label = ENDPOINTS[rel]
    return (
        f"CALL {{ UNWIND $e{i} AS e MATCH (a:{_label(source_label)} {{id: e[0]}}) "
        f"MATCH (b:{_label(target_label)} {{id: e[1]}}) MERGE (a)-[:{_rel(rel)}]->(b) "
        f"RETURN count(*) AS c{i} }}"
    )


def _create_nodes_query(labels: list[Label], rels: list[Rel]) -> str:
    """Create the nodes in $n<i> (one parameter per label), then merge the edges in $e<i>: no row comes back
    when any id is taken, and then nothing was created."""
    taken = [
        f"CALL {{ UNWIND $n{i} AS row MATCH (x:{_label(label)} {{id: row.id}}) RETURN count(x) AS taken{i} }}"
        for i, label in enumerate(labels)
    ]
    check = [f"WITH * WHERE {' + '.join(f'taken{i}' for i in range(len(labels)))} = 0"] if labels else []
    create = [
        f"CALL {{ UNWIND $n{i} AS row CREATE (n:{_label(label)} {{id: row.id}}) SET n += row.props "
        f"RETURN count(*) AS made{i} }}"
        for i, label in enumerate(labels)
    ]
    merge = [_merge_edges_part(rel, i) for i, rel in enumerate(rels)]
    counts = ", ".join(f"c{i}" for i in range(len(rels)))
    return " ".join([*taken, *check, *create, *merge, f"RETURN [{counts}] AS merged"])


def _delete_edges_query(rel: Rel, by_source: bool, by_target: bool) -> str:
    source_label, target_label = ENDPOINTS[rel]
    source = f"(a:{_label(source_label)} {{id: $source}})" if by_source else f"(a:{_label(source_label)})"
    target = f"(b:{_label(target_label)} {{id: $target}})" if by_target else f"(b:{_label(target_label)})"
    return f"MATCH {source}-[r:{_rel(rel)}]->{target} DELETE r RETURN count(*) AS deleted"


def _neighbors_match(rel: Rel, direction: EdgeDirection) -> str:
    """Each id in $ids as `id`, matched to every node `far` one `rel` edge away in `direction`."""
    source_label, target_label = ENDPOINTS[rel]
    if direction == "out":
        pattern = f"(near:{_label(source_label)} {{id: id}})-[:{_rel(rel)}]->(far:{_label(target_label)})"
    else:
        pattern = f"(near:{_label(target_label)} {{id: id}})<-[:{_rel(rel)}]-(far:{_label(source_label)})"
    return f"UNWIND $ids AS id MATCH {pattern}"


def _neighbors_query(rel: Rel, direction: EdgeDirection, key: int | None = None) -> str:
    """Rows (id, other): an asked id and one of its neighbors. With `key`, each row starts with it as `k`, so the
    queries for several relationships can share one UNION ALL. A key is an int from our code, never from input."""
    assert key is None or isinstance(key, int), key
    keyed = "" if key is None else f"{key} AS k, "
    return f"{_neighbors_match(rel, direction)} RETURN {keyed}id, far.id AS other"


def _neighbor_nodes_query(rel: Rel, direction: EdgeDirection, key: int) -> str:
    """Rows (k, id, near, props): each neighbor node whole, keyed `k`, beside the asked id `near` it was reached
    from. A key is an int from our code, never from input."""
    assert isinstance(key, int), key
    return f"{_neighbors_match(rel, direction)} RETURN {key} AS k, far.id AS id, id AS near, properties(far) AS props"
