"""The store contract. Two backends implement it (SQLite, Neo4j); `tests/store/` pins it down on both.

Only `CatalogError` subclasses cross this boundary: each backend translates its driver's errors in one place.
Causal consistency (read your writes on any replica of a clustered store) goes through `causal()`: a scope that
carries the bookmark a client sent and receives the bookmark of each write made inside it. A backend without
bookmarks (one SQLite file: every read sees every committed write) opts out with `supports_bookmarks = False`.
Properties are flat: a value is a str, int, float, bool or a list of those. Writing None removes a property;
reading an absent property is the caller's business (the record codec supplies defaults). `get_node` and
`find_nodes` always include the node's `id` among its properties.
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from catalog.store.query import EdgeDirection, LineageGraph, Page, Predicate
from catalog.store.schema import Label, Rel, far_label
from catalog.store.scope import ContextScope

Props = dict[str, Any]
Hops = Sequence[tuple[Rel, EdgeDirection]]  # edge types to follow, each in its direction
Wanted = list[tuple[Label, list[str]]]  # nodes asked for by label: the label and their distinct ids
NeighborRow = tuple[int, str | None, str, Props]  # see GraphTx._with_neighbors
T = TypeVar("T")
LineageDirection = Literal["UPSTREAM", "DOWNSTREAM", "BOTH"]

# What a client is told when a backend fails (Unavailable.public): the store's address and the driver's own
# words stay in the operator's message, for the log and the CLI.
STORE_UNREACHABLE = "the store cannot be reached; try again shortly"
STORE_FAILED = "the store failed; the catalog's operators have the details in its log"


@dataclass
class ImpactAgreement:
    """A sharing agreement covering a dataset an impact walk reached."""

    id: str
    status: str  # as stored: read it through `domain.status_at` with `valid_until`, as every agreement is
    recipient_agency_id: str | None
    dataset_ids: list[str] = field(default_factory=list)  # the reached datasets it covers, sorted
    valid_until: str = ""


@dataclass
class Impact:
    """What an impact walk reached: downstream datasets by depth (the start at 0) and the agreements covering them."""

    datasets: dict[str, int] = field(default_factory=dict)
    agreements: dict[str, ImpactAgreement] = field(default_factory=dict)

    def add_covering(self, agreement: str, dataset: str, status: Any, recipient: str | None, valid_until: Any) -> None:
        """Note that `agreement` (with its stored status, recipient and end) covers the reached `dataset`."""
        entry = self.agreements.setdefault(
            agreement, ImpactAgreement(agreement, str(status or ""), recipient, valid_until=str(valid_until))
        )
        if dataset not in entry.dataset_ids:
            bisect.insort(entry.dataset_ids, dataset)


@dataclass
class Causality:
    """One client's causal scope: what it has seen, and what its writes in this scope made.

    Transactions in the scope wait until the store has applied `after` (the bookmark the client sent) and the
    scope's own earlier writes; each write sets `latest` to its bookmark. `name` is what the caller calls the
    bookmark (a request header, say): errors about a bad bookmark name it.
    """

    after: str | None = None
    latest: str | None = None
    name: str = "bookmark"

    @property
    def newest(self) -> str | None:
        """The bookmark to wait for: this scope's last write's, else the one the client sent."""
        return self.latest or self.after


_CAUSALITY: ContextScope[Causality] = ContextScope("catalog_causality")
current_causality = _CAUSALITY.current  # the causal scope open in this context, if any


def causal(after: str | None = None, *, name: str = "bookmark") -> AbstractContextManager[Causality]:
    """Open a causal scope for the code inside (threads started with a copy of this context share it)."""
    return _CAUSALITY.open(Causality(after or None, name=name))


def sequence_id(value: int) -> str:
    """The id of the record numbered `value` in a sequence (an audit event): zero-padded, so id order is number
    order."""
    return f"{value:012d}"


class GraphTx(ABC):
    """Operations inside one transaction. Everything done through one GraphTx commits or rolls back together."""

    @abstractmethod
    def create_node(self, label: Label, id: str, props: Props) -> None:
        """Create a node. Raises AlreadyExists when a node with that label and id exists."""

    @abstractmethod
    def merge_node(self, label: Label, id: str, props: Props) -> bool:
        """Create the node, or set the given properties on the existing one. Returns True if it was created."""

    @abstractmethod
    def update_node(self, label: Label, id: str, props: Props) -> None:
        """Set the given properties on an existing node. Raises NotFound when it does not exist."""

    @abstractmethod
    def get_node(self, label: Label, id: str) -> Props | None:
        """The node's properties (with `id`), or None."""

    @abstractmethod
    def get_nodes(self, label: Label, ids: Sequence[str]) -> dict[str, Props]:
        """Many nodes in one round trip. Missing ids are absent from the result."""

    def get_many(self, wanted: Mapping[Label, Sequence[str]]) -> dict[Label, dict[str, Props]]:
        """Nodes of several labels in one round trip: for each label asked for, its found nodes by id."""
        return {label: self.get_nodes(label, ids) for label, ids in wanted.items()}

    @abstractmethod
    def delete_node(self, label: Label, id: str) -> None:
        """Delete the node and its edges. Raises NotFound when it does not exist."""

    @abstractmethod
    def merge_edge(self, rel: Rel, source: str, target: str, props: Props | None = None) -> None:
        """Create the edge unless it exists (then set `props` on it).

        The endpoint labels come from `schema.ENDPOINTS`. Raises NotFound naming the missing endpoint.
        """

    def merge_edges(self, edges: Sequence[tuple[Rel, str, str]]) -> None:
        """`merge_edge` for several edges (of any types, without properties) in one round trip.

        Raises NotFound naming a missing endpoint; then none of them is written (the caller's transaction
        rolls back).
        """
        for rel, source, target in edges:
            self.merge_edge(rel, source, target)

    def create_nodes(
        self, nodes: Sequence[tuple[Label, str, Props]], edges: Sequence[tuple[Rel, str, str]] = ()
    ) -> None:
        """`create_node` for each node, then `merge_edges` for `edges` (which may join them): in one round trip on
        a network store (an in-process one has none to save).

        Raises AlreadyExists or NotFound as those do; then none of it is written (the caller's transaction rolls
        back).
        """
        for label, id, props in nodes:
            self.create_node(label, id, props)
        self.merge_edges(edges)

    @abstractmethod
    def delete_edges(self, rel: Rel, *, source: str | None = None, target: str | None = None) -> int:
        """Delete edges of type `rel` from `source` and/or to `target`. Returns how many were deleted."""

    @abstractmethod
    def neighbors(self, rel: Rel, ids: Sequence[str], direction: EdgeDirection) -> dict[str, list[str]]:
        """For each id, the ids at the other end of its `rel` edges, sorted, in one round trip.

        direction "out": ids are sources, result lists targets; "in": ids are targets, result lists sources.
        Every requested id is a key (with an empty list when it has no such edges).
        """

    def neighbors_many(
        self, ids: Sequence[str], rels: Sequence[tuple[Rel, EdgeDirection]]
    ) -> list[dict[str, list[str]]]:
        """`neighbors` for several (rel, direction) pairs in one round trip, in the order asked."""
        results: list[dict[str, list[str]]] = [{id: [] for id in ids} for _ in rels]
        if not ids or not rels:
            return results
        for k, near, far in self._neighbor_rows(list(dict.fromkeys(ids)), rels):
            results[k][near].append(far)
        for result in results:
            for others in result.values():
                others.sort()
        return results

    @abstractmethod
    def _neighbor_rows(self, ids: list[str], rels: Hops) -> Iterator[tuple[int, str, str]]:
        """The rows of `neighbors_many`, from one query: (k, near, far) for each `rels[k]` edge from the asked
        node `near` (one of `ids`, which are distinct) to `far`."""

    def get_with_neighbors(
        self,
        label: Label,
        ids: Sequence[str],
        rels: Sequence[tuple[Rel, EdgeDirection]],
        also: Mapping[Label, Sequence[str]] | None = None,
    ) -> tuple[dict[Label, dict[str, Props]], list[dict[str, list[str]]]]:
        """Nodes of `label` by id, their neighbors through each (rel, direction), and the `also` nodes, in one
        round trip.

        Returns the nodes found, by label (those asked for, every neighbor, and `also`), and per (rel, direction)
        what `neighbors_many` returns: for each asked id, its neighbors' ids, sorted.
        """
        asked = list(dict.fromkeys(ids))
        wanted = [(other, list(dict.fromkeys(other_ids))) for other, other_ids in (also or {}).items()]
        far = [far_label(rel, direction) for rel, direction in rels]
        found: dict[Label, dict[str, Props]] = {each: {} for each in [label, *far, *(other for other, _ in wanted)]}
        neighbors: list[dict[str, list[str]]] = [{id: [] for id in asked} for _ in rels]
        for k, near, id, props in self._with_neighbors(label, asked, rels, wanted):
            if k >= 0:
                assert near is not None, "a neighbor row names the node it was reached from"
                neighbors[k][near].append(id)
            found[label if k == -1 else far[k] if k >= 0 else wanted[-2 - k][0]][id] = props
        for result in neighbors:
            for others in result.values():
                others.sort()
        return found, neighbors

    @abstractmethod
    def _with_neighbors(self, label: Label, ids: list[str], rels: Hops, also: Wanted) -> Iterator[NeighborRow]:
        """The rows of `get_with_neighbors`, from one query: (k, near, id, properties), where k = -1 for the nodes
        of `label` among `ids` (distinct), k >= 0 for the neighbors through rels[k] of the asked node `near`, and
        k = -2 - j for the nodes of also[j] (near None but for neighbors)."""

    def find_nodes(
        self,
        label: Label,
        where: Predicate,
        *,
        first: int,
        after: str | None = None,
        with_total: bool = False,
    ) -> Page:
        """Nodes of `label` matching `where`, ordered by id, at most `first`, with id greater than `after`."""
        assert first >= 0, "first must not be negative"
        # One more than the page holds tells whether there is a next page, without counting every match.
        rows, total = self._match_nodes(label, where, first + 1, after, with_total)
        items = rows[:first]
        return Page(items=items, has_next=len(rows) > first, end_cursor=items[-1][0] if items else after, total=total)

    @abstractmethod
    def _match_nodes(
        self, label: Label, where: Predicate, limit: int, after: str | None, with_total: bool
    ) -> tuple[list[tuple[str, Props]], int | None]:
        """At most `limit` nodes of `label` matching `where` with id greater than `after`, ordered by id, as
        (id, properties); and, when `with_total`, how many nodes match `where` in all."""

    @abstractmethod
    def lineage(self, start: str, direction: LineageDirection, depth: int) -> LineageGraph:
        """Datasets and processes reachable from dataset `start` within `depth` dataset hops.

        UPSTREAM follows (dataset)-[:GENERATED_BY]->(process)-[:USED]->(dataset); DOWNSTREAM the reverse.
        The start dataset is included at depth 0. Cycles terminate. Raises NotFound if `start` is missing.
        """

    @abstractmethod
    def impact(self, start: str, depth: int) -> Impact:
        """Every dataset downstream of dataset `start` within `depth` dataset hops, and every sharing agreement
        covering any of them (the start included) with its recipient: in one query on a network store; an
        in-process store may walk level by level, one query per level.

        Depths are the shortest. Cycles terminate. A negative depth counts as 0. Raises NotFound if `start` is
        missing.
        """

    @abstractmethod
    def path(self, source: str, target: str, max_depth: int) -> list[str] | None:
        """The shortest derivation path from dataset `source` down to dataset `target`, within `max_depth` hops.

        Returns ids alternating dataset, process, dataset, ... from `source` to `target` (`[source]` when they
        are the same); of several shortest paths, the one whose id list sorts first. None when `target` is not
        derived from `source` within reach. Raises NotFound naming a missing dataset.
        """

    @abstractmethod
    def next_sequence(self, name: str) -> int:
        """Atomically increment and return the named counter (1 on first use). Rolls back with the tx."""

    @abstractmethod
    def current_sequence(self, name: str) -> int | None:
        """The named counter's value without changing it; None when it was never used, or has been removed."""

    @abstractmethod
    def lock(self, label: Label, id: str) -> None:
        """Hold this record's write lock until the transaction ends, so what is read next is final (compare-and-set):
        another transaction locking or writing it waits for this one's commit. Nothing to hold for a record that does
        not exist. A store whose writers already serialize has nothing to do."""

    def advance_sequence(self, name: str, previous: Label) -> tuple[int, Props | None]:
        """Advance the named counter as `next_sequence` does, and read the `previous` record numbered one before
        the new value (stored under `sequence_id(value - 1)`): the head of a chain and the number after it, in one
        round trip on a network store. The record is None when the value is 1 or the record is missing."""
        value = self.next_sequence(name)
        return value, (self.get_node(previous, sequence_id(value - 1)) if value > 1 else None)

    @abstractmethod
    def hold_sequence(self, name: str) -> None:
        """Take the named counter's write lock, without advancing it, for the rest of the transaction: at the
        latest with the transaction's next statement, so that everything read after this call is read under it.

        A transaction that will advance the counter and takes it first cannot deadlock with another that does the
        same: every other lock it takes, it takes while no other such transaction runs. A store whose writers
        already serialize (one writer at a time) has nothing to do.
        """


class GraphStore(ABC):
    """A catalog store: runs units of work in transactions."""

    backend: str = "abstract"
    # True when writes return bookmarks and reads can wait for one (a clustered store); False opts out, and
    # then `causal()` scopes and `read(bookmark=...)` are accepted and ignored.
    supports_bookmarks: bool = False
    # True when the store runs inside this process, so a small read is a few microseconds of CPU rather than a
    # wait on a socket: callers on an event loop may run bounded reads inline instead of in a worker thread.
    in_process: bool = False

    def __init__(self) -> None:
        # Counts queries sent to the database, so tests can bound round trips (no N+1).
        self.round_trips = 0

    @abstractmethod
    def write(self, work: Callable[[GraphTx], T]) -> T:
        """Run `work` in a write transaction and commit; roll back on any exception.

        `work` may be run more than once (transient errors are retried), so it must not have side effects
        outside the transaction. Inside a causal scope the transaction first waits for the scope's newest
        bookmark, and its own bookmark becomes the scope's `latest` once committed.
        """

    @abstractmethod
    def read(self, work: Callable[[GraphTx], T], *, bookmark: str | None = None) -> T:
        """Run `work` in a read transaction that sees at least the write `bookmark` names (by default the open
        causal scope's newest). Raises InvalidInput naming the bookmark when the store cannot read it."""

    def check_bookmark(self, bookmark: str, name: str = "bookmark") -> None:
        """Raise InvalidInput naming `name` unless `bookmark` has the form this store's bookmarks have.

        A store without bookmarks accepts anything (it ignores bookmarks).
        """
        return None  # overridden by stores that support bookmarks

    @abstractmethod
    def init_schema(self) -> None:
        """Create tables, constraints and indexes. Idempotent."""

    @abstractmethod
    def ping(self) -> None:
        """Raise Unavailable unless the store answers a trivial query."""

    @abstractmethod
    def clear(self) -> None:
        """Delete every node and edge (tests and `catalog demo --reset`)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
