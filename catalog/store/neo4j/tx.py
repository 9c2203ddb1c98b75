"""One Neo4j transaction attempt as a GraphTx: each method runs the named Cypher of its sibling modules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from neo4j import Record, Transaction
from neo4j.exceptions import ConstraintError

from catalog.errors import AlreadyExists, NotFound
from catalog.store.base import GraphTx, Hops, Impact, LineageDirection, NeighborRow, Props, Wanted
from catalog.store.neo4j.cypher import (
    _create_nodes_query,
    _create_query,
    _delete_edges_query,
    _delete_query,
    _exists_query,
    _get_query,
    _label,
    _merge_edge_query,
    _merge_query,
    _neighbor_nodes_query,
    _neighbors_query,
    _update_query,
)
from catalog.store.neo4j.lineage import _add_lineage_row, _impact_query, _lineage_query, _path_query
from catalog.store.neo4j.predicates import _Compiler
from catalog.store.neo4j.sequences import _COUNTER, _ID_WIDTH, _NEXT_SEQUENCE, _advance_query, _holding_first
from catalog.store.neo4j.text import _public, _storable
from catalog.store.query import EdgeDirection, LineageGraph, Predicate
from catalog.store.schema import ENDPOINTS, Label, Rel

if TYPE_CHECKING:
    from catalog.store.neo4j.store import Neo4jStore


class Neo4jTx(GraphTx):
    """GraphTx over one transaction attempt. Driver errors propagate so the store can retry transient ones."""

    def __init__(self, store: Neo4jStore, tx: Transaction) -> None:
        self._store = store
        self._tx = tx
        self._hold: str | None = None  # a counter whose lock the next statement takes first

    def _q(self, query: str, **params: Any) -> list[Record]:
        return self._statement(query, params)

    def _statement(self, query: str, params: dict[str, Any], advancing: str | None = None) -> list[Record]:
        """Run one statement, taking a held counter's lock first unless the statement advances that counter."""
        self._store.check_open()
        if self._hold is not None:
            if self._hold != advancing:  # advancing the same counter takes its lock anyway
                query, params = _holding_first(query), {**params, "held": self._hold}
            self._hold = None
        self._store.round_trips += 1
        # Reading every record here makes a failing statement fail at its call site.
        return list(self._tx.run(query, params))

    def _exists(self, label: Label, id: str) -> bool:
        return bool(self._q(_exists_query(label), id=id)[0]["found"])

    def create_node(self, label: Label, id: str, props: Props) -> None:
        try:
            created = self._q(_create_query(label), id=id, props=_storable(label, props))
        except ConstraintError:
            # Another transaction created it between our check and our CREATE.
            raise AlreadyExists(label.value, id) from None
        if not created:
            raise AlreadyExists(label.value, id)

    def merge_node(self, label: Label, id: str, props: Props) -> bool:
        rows = self._q(_merge_query(label), id=id, props=_storable(label, props))
        return bool(rows[0]["created"])

    def update_node(self, label: Label, id: str, props: Props) -> None:
        if not self._q(_update_query(label), id=id, props=_storable(label, props)):
            raise NotFound(label.value, id)

    def get_node(self, label: Label, id: str) -> Props | None:
        return self.get_nodes(label, [id]).get(id)

    def get_nodes(self, label: Label, ids: Sequence[str]) -> dict[str, Props]:
        if not ids:
            return {}
        rows = self._q(_get_query(label), ids=list(dict.fromkeys(ids)))
        return {row["id"]: _public(row["props"]) for row in rows}

    def get_many(self, wanted: Mapping[Label, Sequence[str]]) -> dict[Label, dict[str, Props]]:
        found: dict[Label, dict[str, Props]] = {label: {} for label in wanted}
        asked = [(label, list(dict.fromkeys(ids))) for label, ids in wanted.items() if ids]
        if not asked:
            return found
        query = " UNION ALL ".join(
            f"MATCH (n:{_label(label)}) WHERE n.id IN $ids{i} RETURN {i} AS k, n.id AS id, properties(n) AS props"
            for i, (label, _) in enumerate(asked)
        )
        for row in self._q(query, **{f"ids{i}": ids for i, (_, ids) in enumerate(asked)}):
            found[asked[row["k"]][0]][row["id"]] = _public(row["props"])
        return found

    def delete_node(self, label: Label, id: str) -> None:
        if self._q(_delete_query(label), id=id)[0]["deleted"] == 0:
            raise NotFound(label.value, id)

    def merge_edge(self, rel: Rel, source: str, target: str, props: Props | None = None) -> None:
        stored = {k: v for k, v in (props or {}).items() if not k.startswith("_")}
        if self._q(_merge_edge_query(rel), source=source, target=target, props=stored):
            return
        # Only on failure: find which endpoint is missing, source first (as the SQLite backend reports).
        source_label, target_label = ENDPOINTS[rel]
        for label, id in ((source_label, source), (target_label, target)):
            if not self._exists(label, id):
                raise NotFound(label.value, id)
        raise AssertionError(f"{rel} edge {source}->{target} was not merged though both endpoints exist")

    def merge_edges(self, edges: Sequence[tuple[Rel, str, str]]) -> None:
        self.create_nodes((), edges)  # the same statement, with no nodes to create

    def create_nodes(
        self, nodes: Sequence[tuple[Label, str, Props]], edges: Sequence[tuple[Rel, str, str]] = ()
    ) -> None:
        by_label: dict[Label, list[dict[str, Any]]] = {}
        for label, id, props in nodes:
            by_label.setdefault(label, []).append({"id": id, "props": _storable(label, props)})
        by_rel: dict[Rel, list[list[str]]] = {}
        for rel, source, target in edges:
            by_rel.setdefault(rel, []).append([source, target])
        if not by_label and not by_rel:
            return
        params: dict[str, Any] = {f"n{i}": created for i, created in enumerate(by_label.values())}
        params.update({f"e{i}": pairs for i, pairs in enumerate(by_rel.values())})
        try:
            rows = self._q(_create_nodes_query(list(by_label), list(by_rel)), **params)
        except ConstraintError:
            # Another transaction created one of them after this statement's own check; we cannot tell which.
            label, id, _ = nodes[0]
            raise AlreadyExists(label.value, id) from None
        if not rows:  # the statement's check found an id taken, and created nothing
            for label, id, _ in nodes:
                if self._exists(label, id):
                    raise AlreadyExists(label.value, id)
            raise AssertionError("create_nodes created nothing though no id was taken")
        if any(n != len(pairs) for n, pairs in zip(rows[0]["merged"], by_rel.values(), strict=True)):
            self._missing_endpoint(edges)  # only on failure: name the first missing endpoint

    def _missing_endpoint(self, edges: Sequence[tuple[Rel, str, str]]) -> None:
        """Raise NotFound naming the first missing endpoint of `edges`, sources first (as SQLite reports)."""
        for rel, source, target in edges:
            source_label, target_label = ENDPOINTS[rel]
            for label, id in ((source_label, source), (target_label, target)):
                if not self._exists(label, id):
                    raise NotFound(label.value, id)
        raise AssertionError("fewer edges were written than asked though every endpoint exists")

    def delete_edges(self, rel: Rel, *, source: str | None = None, target: str | None = None) -> int:
        assert source is not None or target is not None, "delete_edges needs a source or a target"
        query = _delete_edges_query(rel, source is not None, target is not None)
        return int(self._q(query, source=source, target=target)[0]["deleted"])

    def neighbors(self, rel: Rel, ids: Sequence[str], direction: EdgeDirection) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {id: [] for id in ids}
        if not ids:
            return result
        for row in self._q(_neighbors_query(rel, direction), ids=list(result)):
            result[row["id"]].append(row["other"])
        for others in result.values():
            others.sort()
        return result

    def _neighbor_rows(self, ids: list[str], rels: Hops) -> Iterator[tuple[int, str, str]]:
        query = " UNION ALL ".join(_neighbors_query(rel, direction, key=i) for i, (rel, direction) in enumerate(rels))
        for row in self._q(query, ids=ids):
            yield row["k"], row["id"], row["other"]

    def _with_neighbors(self, label: Label, ids: list[str], rels: Hops, also: Wanted) -> Iterator[NeighborRow]:
        # One branch per kind of row, each keyed k as get_with_neighbors reads it.
        branches, params = [], {}
        if ids:
            params["ids"] = ids
            branches.append(
                f"MATCH (n:{_label(label)}) WHERE n.id IN $ids RETURN -1 AS k, n.id AS id, null AS near, "
                "properties(n) AS props"
            )
            branches += [_neighbor_nodes_query(rel, direction, key=i) for i, (rel, direction) in enumerate(rels)]
        for j, (other, other_ids) in enumerate(also):
            params[f"also{j}"] = other_ids
            branches.append(
                f"MATCH (n:{_label(other)}) WHERE n.id IN $also{j} RETURN {-2 - j} AS k, n.id AS id, null AS near, "
                "properties(n) AS props"
            )
        if branches:  # nothing asked for at all: no query
            for row in self._q(" UNION ALL ".join(branches), **params):
                yield row["k"], row["near"], row["id"], _public(row["props"])

    def _match_nodes(
        self, label: Label, where: Predicate, limit: int, after: str | None, with_total: bool
    ) -> tuple[list[tuple[str, Props]], int | None]:
        compiler = _Compiler()
        condition = compiler.compile(where, label, "n")
        base = " ".join([*compiler.preamble, f"MATCH (n:{_label(label)}) WHERE {condition}"])
        total = None
        if with_total:
            total = int(self._q(f"{base} RETURN count(n) AS total", **compiler.params)[0]["total"])
        # A bound on n.id lets the planner walk the id index in order and stop after `limit` matches, instead of
        # filtering every node and sorting: an analyst's first page reads ~limit/selectivity nodes, not all of them.
        cursor = " AND n.id > $after" if after is not None else " AND n.id IS NOT NULL"
        rows = self._q(
            f"{base}{cursor} RETURN n.id AS id, properties(n) AS props ORDER BY n.id LIMIT $limit",
            **compiler.params,
            after=after,
            limit=limit,
        )
        return [(row["id"], _public(row["props"])) for row in rows], total

    def lineage(self, start: str, direction: LineageDirection, depth: int) -> LineageGraph:
        assert direction in ("UPSTREAM", "DOWNSTREAM", "BOTH"), direction
        assert isinstance(depth, int), depth
        depth = max(depth, 0)  # the SQLite backend treats a negative depth as 0: just the start
        rows = self._q(_lineage_query(direction, depth), start=start, depth=depth)
        if not rows:  # every branch yields the start itself at depth 0 when it exists
            raise NotFound(Label.DATASET.value, start)
        graph = LineageGraph(datasets={start: 0})
        for row in rows:
            _add_lineage_row(graph, row["way"], row["dataset"], row["level"], row["hops"])
        return graph

    def impact(self, start: str, depth: int) -> Impact:
        assert isinstance(depth, int), depth
        reached = self._q(_impact_query(max(depth, 0)), start=start)[0]["reached"]
        if not reached:  # the start itself is always reached when it exists
            raise NotFound(Label.DATASET.value, start)
        found = Impact()
        for dataset, level, agreements in reached:
            found.datasets[dataset] = level
            for agreement, status, recipient, valid_until in agreements:
                if agreement is not None:  # None: the OPTIONAL MATCH found no agreement covering this dataset
                    found.add_covering(agreement, dataset, status, recipient, valid_until)
        return found

    def path(self, source: str, target: str, max_depth: int) -> list[str] | None:
        assert isinstance(max_depth, int), max_depth
        rows = self._q(_path_query(max(max_depth, 0)), source=source, target=target)
        if not rows:
            for id in (source, target):
                if not self._exists(Label.DATASET, id):
                    raise NotFound(Label.DATASET.value, id)
            return None
        ids = rows[0]["ids"]
        return list(ids) if ids else None

    def next_sequence(self, name: str) -> int:
        return int(self._statement(_NEXT_SEQUENCE, {"name": name}, advancing=name)[0]["value"])

    def advance_sequence(self, name: str, previous: Label) -> tuple[int, Props | None]:
        row = self._statement(_advance_query(previous), {"name": name, "zeros": "0" * _ID_WIDTH}, advancing=name)[0]
        return int(row["value"]), (None if row["props"] is None else _public(row["props"]))

    def current_sequence(self, name: str) -> int | None:
        rows = self._q(f"MATCH (c:{_COUNTER} {{name: $name}}) RETURN c.value AS value", name=name)
        return int(rows[0]["value"]) if rows else None

    def lock(self, label: Label, id: str) -> None:
        # Setting a property takes the node's write lock until commit; removing it in the same statement leaves
        # the record as it was.
        self._q(f"MATCH (n:{label.value} {{id: $id}}) SET n._lock = true REMOVE n._lock", id=id)

    def hold_sequence(self, name: str) -> None:
        self._hold = name
