"""The server store: Neo4j through the official Bolt driver.

Every query is parameterized. The only identifiers ever written into Cypher text are labels and relationship
types taken from the `Label`/`Rel` whitelists, property names checked against `QUERYABLE`, variable names this
module generates, and lineage depth bounds that are validated ints. Needs Neo4j 5.21+ (the `SHORTEST` path
syntax the lineage query uses).

Full-text search mirrors the SQLite backend's FTS5 `unicode61` tokenizer: each text-indexed property gets a
derived `_text_<prop>` string of normalized tokens, written with the property itself, and the full-text index
covers those derived strings with Lucene's `whitespace` analyzer. Underscore-prefixed properties are ours:
they are never written from input and never returned.
"""

from __future__ import annotations

import logging
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from neo4j import READ_ACCESS, WRITE_ACCESS, Bookmarks, Driver, GraphDatabase, Record, Session, Transaction
from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConfigurationError,
    ConstraintError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from catalog.errors import (
    AlreadyExists,
    CatalogError,
    ConfigError,
    InvalidInput,
    NotFound,
    OutcomeUnknown,
    Unavailable,
)
from catalog.store.base import (
    STORE_FAILED,
    STORE_UNREACHABLE,
    GraphStore,
    GraphTx,
    Impact,
    ImpactAgreement,
    LineageDirection,
    Props,
    T,
    current_causality,
    sequence_id,
)
from catalog.store.circuit import Circuit
from catalog.store.deadline import committed, current_deadline, remaining_s
from catalog.store.query import (
    And,
    Cmp,
    Const,
    Contains,
    Direction,
    Eq,
    IdIn,
    In,
    LineageGraph,
    Not,
    Or,
    Page,
    Predicate,
    Related,
    Text,
)
from catalog.store.schema import ENDPOINTS, QUERYABLE, TEXT_INDEXED, Label, Rel

log = logging.getLogger("catalog.store")
_SAFE_PROP = re.compile(r"^[a-z][a-z0-9_]*$")
_WORD = re.compile(r"\w+", re.UNICODE)
# Lucene query syntax characters; tokens may contain symbols, so every one of them is escaped.
_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/<>=])')
# Long enough for a deadlock or leader switch to clear, short enough that a dead server fails in seconds.
_RETRY_TIME_S = 10.0
# Doubled after each failed attempt, with jitter of half either way. Shorter than the driver's 1 s: the usual
# transient error here is a deadlock on the audit chain's counter between concurrent writers, and a second's wait
# after each made a burst of writes (a store coming back, say) take several seconds to clear.
_FIRST_RETRY_DELAY_S = 0.1
_TIMED_OUT = (
    "Neo.ClientError.Transaction.TransactionTimedOut",
    "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
)
# Beyond this many dataset hops the lineage pattern is left unbounded (the shortest-path search ends anyway).
_MAX_BOUNDED_DEPTH = 1000
_COUNTER = "Counter"
# A bookmark as we hand it out: the driver's raw bookmark strings (base64 with a prefix), comma-separated.
_BOOKMARK_VALUE = re.compile(r"^[A-Za-z0-9+/=:._-]{1,512}$")
_MAX_BOOKMARK_VALUES = 16
_INVALID_BOOKMARK = (
    "Neo.ClientError.Transaction.InvalidBookmark",
    "Neo.ClientError.Transaction.InvalidBookmarkMixture",
)


def _label(label: Label) -> str:
    """A label for Cypher text, only ever from the whitelist."""
    return Label(label).value


def _rel(rel: Rel) -> str:
    """A relationship type for Cypher text, only ever from the whitelist."""
    return Rel(rel).value


def _prop(label: Label, prop: str) -> str:
    """A property name for Cypher text, only when the schema declares it queryable."""
    assert prop in QUERYABLE[label] and _SAFE_PROP.match(prop), f"{label}.{prop} is not queryable"
    return prop


def _text_index(label: Label) -> str:
    return f"catalog_{_label(label).lower()}_text"


def _text_prop(prop: str) -> str:
    assert _SAFE_PROP.match(prop), prop
    return f"_text_{prop}"


# --- full text: the same tokens FTS5 `unicode61` would produce -------------------------------------------


def _is_token_char(char: str) -> bool:
    # unicode61 keeps letters, numbers, private-use and non-BMP characters; the rest separate tokens.
    return unicodedata.category(char)[0] in "LN" or unicodedata.category(char) == "Co" or ord(char) > 0xFFFF


def _tokens(text: str) -> list[str]:
    """Lower-cased tokens with diacritics removed (unicode61's defaults)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    folded = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    words, current = [], []
    for char in folded:
        if _is_token_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _text_value(value: Any) -> str | None:
    """The derived full-text string for one property value, as the SQLite backend would index it."""
    if value is None:
        return None
    text = " ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    return " ".join(_tokens(text))


def _lucene_query(text: str) -> str | None:
    """Words ANDed and prefix-matched, like SQLite's `"word"*` terms. None when there are no words.

    Returns "" when a word has no token (e.g. "___"): FTS5 matches nothing for it, so neither do we.
    """
    words = _WORD.findall(text)
    if not words:
        return None
    terms: list[str] = []
    for word in words:
        tokens = _tokens(word)
        if not tokens:
            return ""
        terms.extend(_LUCENE_SPECIAL.sub(r"\\\1", token) + "*" for token in tokens)
    return " AND ".join(terms)


def _storable(label: Label, props: Props) -> Props:
    """Properties as written: never `id` (it is the key) nor our own `_` names, plus derived text fields."""
    stored = {k: v for k, v in props.items() if k != "id" and not k.startswith("_")}
    for name in TEXT_INDEXED.get(label, ()):
        if name in props:
            # None removes the derived field along with the property itself.
            stored[_text_prop(name)] = _text_value(props[name])
    return stored


def _public(props: dict[str, Any]) -> Props:
    return {k: v for k, v in props.items() if not k.startswith("_")}


# --- error translation ------------------------------------------------------------------------------------


def _message(exc: BaseException) -> str:
    # A server error's own text is in `message`; for driver-side errors `message` is a generic GQL status.
    message = (exc.message if isinstance(exc, Neo4jError) else None) or str(exc) or type(exc).__name__
    return " ".join(str(message).split())


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost driver error: the routing driver hides "connection refused" inside an ExceptionGroup.

    Bare OSErrors are skipped, since the driver error wrapping one already quotes it.
    """
    found, seen = exc, {id(exc)}
    current: BaseException | None = exc
    while current is not None:
        if not isinstance(current, (OSError, BaseExceptionGroup)):
            found = current
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__
        if current is not None and id(current) in seen:
            break
        seen.add(id(current))
    return found


def _reason(exc: BaseException) -> str:
    """One line: the error's message, and its root cause's when that says more."""
    message, root = _message(exc), _root_cause(exc)
    detail = _message(root)
    return message if root is exc or detail in message else f"{message}: {detail}"


def _timed_out(exc: BaseException) -> bool:
    """The server ended the transaction at the timeout we gave it (the request's time left): nothing committed."""
    return isinstance(exc, Neo4jError) and exc.code in _TIMED_OUT


def _bookmark_values(bookmark: str, name: str) -> list[str]:
    """The raw values of a bookmark we handed out. Raises InvalidInput naming `name` when it has another form."""
    values = bookmark.split(",")
    if len(values) > _MAX_BOOKMARK_VALUES or not all(_BOOKMARK_VALUE.match(v) for v in values):
        raise InvalidInput(name, "is not a bookmark this catalog returned; send back one a response carried")
    return values


def _bookmark_text(bookmarks: Bookmarks) -> str | None:
    return ",".join(sorted(bookmarks.raw_values)) or None


@contextmanager
def _translated(uri: str, from_work: Sequence[BaseException] = (), bookmark_name: str = "bookmark") -> Iterator[None]:
    """The one place where driver errors become CatalogErrors.

    `from_work` holds what the caller's unit of work raised: those pass through untouched (the service layer
    raises its own errors), while a ValueError from anywhere else is the driver rejecting the address. A bookmark
    the server cannot parse is the caller's input, named `bookmark_name`.
    """
    try:
        yield
    except CatalogError:
        raise
    except ClientError as exc:
        if exc.code in _INVALID_BOOKMARK:
            raise InvalidInput(bookmark_name, f"the store cannot read this bookmark ({_reason(exc)})") from None
        raise Unavailable(
            f"CATALOG_STORE: Neo4j at {uri} refused the query: {_reason(exc)}", public=STORE_FAILED
        ) from None
    except ValueError as exc:
        if any(exc is raised for raised in from_work):
            raise
        raise ConfigError(f"CATALOG_STORE: {uri!r} is not a usable Neo4j address ({_reason(exc)})") from None
    except AuthError as exc:
        raise Unavailable(
            f"CATALOG_STORE: Neo4j at {uri} rejected the credentials "
            f"(check CATALOG_NEO4J__USER and CATALOG_NEO4J__PASSWORD): {_reason(exc)}",
            public=STORE_FAILED,
        ) from None
    except (ServiceUnavailable, SessionExpired) as exc:
        raise Unavailable(
            f"CATALOG_STORE: cannot reach Neo4j at {uri} ({_reason(exc)})", public=STORE_UNREACHABLE
        ) from None
    except ConfigurationError as exc:
        raise ConfigError(f"CATALOG_STORE: cannot use Neo4j at {uri}: {_reason(exc)}") from None
    except DriverError as exc:
        raise Unavailable(f"CATALOG_STORE: Neo4j at {uri} failed: {_reason(exc)}", public=STORE_FAILED) from None
    except Neo4jError as exc:
        raise Unavailable(
            f"CATALOG_STORE: Neo4j at {uri} refused the query: {_reason(exc)}", public=STORE_FAILED
        ) from None


# --- predicate compiler -----------------------------------------------------------------------------------


class _Compiler:
    """Compiles a Predicate into a Cypher condition, collecting named parameters.

    Full-text hits are gathered once per query in `preamble` subqueries and tested with `id IN`, so a Text
    predicate can sit anywhere in the tree (under Not, Or, or a Related node).
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.preamble: list[str] = []
        self._vars = 0

    def _param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def compile(self, predicate: Predicate, label: Label, var: str) -> str:
        match predicate:
            case Const(value=value):
                return "true" if value else "false"
            case Eq(prop=prop, value=None):
                return f"{var}.{_prop(label, prop)} IS NULL"
            case Eq(prop=prop, value=value):
                return f"{var}.{_prop(label, prop)} = {self._param(value)}"
            case In(prop=prop, values=values):
                if not values:
                    return "false"
                return f"{var}.{_prop(label, prop)} IN {self._param(list(values))}"
            case Contains(prop=prop, value=value):
                return self._contains(f"{var}.{_prop(label, prop)}", self._param(value))
            case Cmp(prop=prop, op=op, value=value):
                assert op in ("<", "<=", ">", ">="), op
                return f"{var}.{_prop(label, prop)} {op} {self._param(value)}"
            case IdIn(ids=ids):
                if not ids:
                    return "false"
                return f"{var}.id IN {self._param(list(ids))}"
            case Text(query=query):
                return self._text(query, label, var)
            case Related(rel=rel, direction=direction, where=where):
                return self._related(rel, direction, where, label, var)
            case And(parts=parts):
                return "(" + " AND ".join(self.compile(p, label, var) for p in parts) + ")" if parts else "true"
            case Or(parts=parts):
                return "(" + " OR ".join(self.compile(p, label, var) for p in parts) + ")" if parts else "false"
            case Not(part=part):
                return f"NOT ({self.compile(part, label, var)})"
        raise AssertionError(f"unknown predicate {predicate!r}")

    @staticmethod
    def _contains(prop: str, value: str) -> str:
        # Like SQLite's json_each: never null (so NOT works), and a scalar property "contains" itself.
        return (
            f"(CASE WHEN {prop} IS :: LIST<ANY> THEN coalesce({value} IN {prop}, false) "
            f"ELSE coalesce({prop} = {value}, false) END)"
        )

    def _text(self, query: str, label: Label, var: str) -> str:
        assert label in TEXT_INDEXED, f"{label} has no text index"
        lucene = _lucene_query(query)
        if lucene is None:
            return "true"
        if not lucene:
            return "false"
        hits = f"hits{len(self.preamble)}"
        index, terms = self._param(_text_index(label)), self._param(lucene)
        self.preamble.append(
            f"CALL {{ CALL db.index.fulltext.queryNodes({index}, {terms}) YIELD node "
            f"RETURN collect(node.id) AS {hits} }}"
        )
        return f"{var}.id IN {hits}"

    def _related(self, rel: Rel, direction: Direction, where: Predicate | None, label: Label, var: str) -> str:
        source_label, target_label = ENDPOINTS[rel]
        near_label, other = (source_label, target_label) if direction == "out" else (target_label, source_label)
        assert near_label == label, f"{rel} does not start at {label}"
        self._vars += 1
        far = f"m{self._vars}"  # fresh per nesting level, so inner conditions never see a shadowed name
        arrow = f"-[:{_rel(rel)}]->" if direction == "out" else f"<-[:{_rel(rel)}]-"
        pattern = f"({var}){arrow}({far}:{_label(other)})"
        if where is None:
            return f"EXISTS {{ MATCH {pattern} }}"
        return f"EXISTS {{ MATCH {pattern} WHERE {self.compile(where, other, far)} }}"


# --- Cypher builders --------------------------------------------------------------------------------------


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


def _neighbors_query(rel: Rel, direction: Direction) -> str:
    source_label, target_label = ENDPOINTS[rel]
    if direction == "out":
        pattern = f"(near:{_label(source_label)} {{id: id}})-[:{_rel(rel)}]->(far:{_label(target_label)})"
    else:
        pattern = f"(near:{_label(target_label)} {{id: id}})<-[:{_rel(rel)}]-(far:{_label(source_label)})"
    return f"UNWIND $ids AS id MATCH {pattern} RETURN id, far.id AS other"


_ADVANCING = f"MERGE (c:{_COUNTER} {{name: $name}}) ON CREATE SET c.value = 0 SET c.value = c.value + 1"
# Reading c.value on the right of SET makes Neo4j write-lock c first, so concurrent callers serialize.
_NEXT_SEQUENCE = f"{_ADVANCING} RETURN c.value AS value"

# Any write to c takes its write lock until commit. Not `SET c.value = c.value`: the value read before the lock
# was granted would be written back over a newer one (two events then get the same number). It runs as a unit
# subquery in front of the transaction's next statement (`_holding_first`), so holding costs no round trip.
_HOLD_SEQUENCE = f"CALL {{ MERGE (c:{_COUNTER} {{name: $held}}) ON CREATE SET c.value = 0 SET c.held = true }} "
_ID_WIDTH = len(sequence_id(0))


def _advance_query(label: Label) -> str:
    """Advance a counter and read the record numbered one before the new value, as `sequence_id` names it."""
    return (
        f"{_ADVANCING} WITH c.value AS value "
        f"OPTIONAL MATCH (p:{_label(label)} {{id: right($zeros + toString(value - 1), {_ID_WIDTH})}}) "
        "RETURN value, properties(p) AS props"
    )


def _holding_first(query: str) -> str:
    """`query` with the held counter's lock taken first. A UNION is wrapped whole, so every branch reads under it."""
    if " UNION " in query:
        return f"{_HOLD_SEQUENCE}CALL {{ {query} }} RETURN *"
    return _HOLD_SEQUENCE + query


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


def _schema_statements() -> list[str]:
    statements = [
        f"CREATE CONSTRAINT catalog_{label.value.lower()}_id IF NOT EXISTS "
        f"FOR (n:{_label(label)}) REQUIRE n.id IS UNIQUE"
        for label in Label
    ]
    statements.append(
        f"CREATE CONSTRAINT catalog_counter_name IF NOT EXISTS FOR (c:{_COUNTER}) REQUIRE c.name IS UNIQUE"
    )
    for label, props in QUERYABLE.items():
        for prop in sorted(props):
            statements.append(
                f"CREATE INDEX catalog_{label.value.lower()}_{_prop(label, prop)} IF NOT EXISTS "
                f"FOR (n:{_label(label)}) ON (n.{prop})"
            )
    for label, fields in TEXT_INDEXED.items():
        derived = ", ".join(f"n.{_text_prop(name)}" for name in fields)
        # The derived fields hold pre-normalized tokens, so the analyzer must only split on whitespace.
        statements.append(
            f"CREATE FULLTEXT INDEX {_text_index(label)} IF NOT EXISTS FOR (n:{_label(label)}) ON EACH [{derived}] "
            "OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace'}}"
        )
    statements.append("CALL db.awaitIndexes(300)")
    return statements


# --- transaction and store ---------------------------------------------------------------------------------


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

    def neighbors(self, rel: Rel, ids: Sequence[str], direction: Direction) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {id: [] for id in ids}
        if not ids:
            return result
        for row in self._q(_neighbors_query(rel, direction), ids=list(result)):
            result[row["id"]].append(row["other"])
        for others in result.values():
            others.sort()
        return result

    def neighbors_many(self, ids: Sequence[str], rels: Sequence[tuple[Rel, Direction]]) -> list[dict[str, list[str]]]:
        results: list[dict[str, list[str]]] = [{id: [] for id in ids} for _ in rels]
        if not ids or not rels:
            return results
        query = " UNION ALL ".join(
            _neighbors_query(rel, direction).replace("RETURN id,", f"RETURN {i} AS k, id,")
            for i, (rel, direction) in enumerate(rels)
        )
        for row in self._q(query, ids=list(dict.fromkeys(ids))):
            results[row["k"]][row["id"]].append(row["other"])
        for result in results:
            for others in result.values():
                others.sort()
        return results

    def get_with_neighbors(
        self,
        label: Label,
        ids: Sequence[str],
        rels: Sequence[tuple[Rel, Direction]],
        also: Mapping[Label, Sequence[str]] | None = None,
    ) -> tuple[dict[Label, dict[str, Props]], list[dict[str, list[str]]]]:
        asked = list(dict.fromkeys(ids))
        extra = [(other, list(dict.fromkeys(other_ids))) for other, other_ids in (also or {}).items()]
        neighbors: list[dict[str, list[str]]] = [{id: [] for id in asked} for _ in rels]
        far = [ENDPOINTS[rel][1] if direction == "out" else ENDPOINTS[rel][0] for rel, direction in rels]
        found: dict[Label, dict[str, Props]] = {each: {} for each in [label, *far, *(other for other, _ in extra)]}
        # Each branch returns (k, id, near, props): k = -1 the nodes asked for, k >= 0 the neighbors through
        # rels[k] of the asked node `near`, k <= -2 the `also` nodes of extra[-k - 2].
        branches, params = [], {}
        if asked:
            params["ids"] = asked
            branches.append(
                f"MATCH (n:{_label(label)}) WHERE n.id IN $ids RETURN -1 AS k, n.id AS id, null AS near, "
                "properties(n) AS props"
            )
            branches += [
                _neighbors_query(rel, direction).replace(
                    "RETURN id, far.id AS other", f"RETURN {i} AS k, far.id AS id, id AS near, properties(far) AS props"
                )
                for i, (rel, direction) in enumerate(rels)
            ]
        for j, (other, other_ids) in enumerate(extra):
            params[f"also{j}"] = other_ids
            branches.append(
                f"MATCH (n:{_label(other)}) WHERE n.id IN $also{j} RETURN {-2 - j} AS k, n.id AS id, null AS near, "
                "properties(n) AS props"
            )
        if not branches:
            return found, neighbors
        for row in self._q(" UNION ALL ".join(branches), **params):
            k, id = row["k"], row["id"]
            if k >= 0:
                neighbors[k][row["near"]].append(id)
            found[label if k == -1 else far[k] if k >= 0 else extra[-2 - k][0]][id] = _public(row["props"])
        for result in neighbors:
            for others in result.values():
                others.sort()
        return found, neighbors

    def find_nodes(
        self,
        label: Label,
        where: Predicate,
        *,
        first: int,
        after: str | None = None,
        with_total: bool = False,
    ) -> Page:
        assert first >= 0, "first must not be negative"
        compiler = _Compiler()
        condition = compiler.compile(where, label, "n")
        base = " ".join([*compiler.preamble, f"MATCH (n:{_label(label)}) WHERE {condition}"])
        total = None
        if with_total:
            total = int(self._q(f"{base} RETURN count(n) AS total", **compiler.params)[0]["total"])
        # A bound on n.id lets the planner walk the id index in order and stop after `first` matches, instead of
        # filtering every node and sorting: an analyst's first page reads ~first/selectivity nodes, not all of them.
        cursor = " AND n.id > $after" if after is not None else " AND n.id IS NOT NULL"
        rows = self._q(
            f"{base}{cursor} RETURN n.id AS id, properties(n) AS props ORDER BY n.id LIMIT $limit",
            **compiler.params,
            after=after,
            limit=first + 1,
        )
        items = [(row["id"], _public(row["props"])) for row in rows[:first]]
        return Page(
            items=items,
            has_next=len(rows) > first,
            end_cursor=items[-1][0] if items else after,
            total=total,
        )

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
                if agreement is None:  # the OPTIONAL MATCH found no agreement covering this dataset
                    continue
                entry = found.agreements.setdefault(
                    agreement, ImpactAgreement(agreement, str(status or ""), recipient, valid_until=str(valid_until))
                )
                entry.dataset_ids.append(dataset)
        for entry in found.agreements.values():
            entry.dataset_ids = sorted(set(entry.dataset_ids))
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


class Neo4jStore(GraphStore):
    """A Neo4j server. Units of work run as managed transaction functions, retried on transient errors."""

    backend = "neo4j"
    supports_bookmarks = True

    def __init__(
        self,
        uri: str,
        *,
        user: str = "neo4j",
        password: str = "",
        database: str | None = None,
        connect_timeout_s: float = 10.0,
    ) -> None:
        super().__init__()
        self.uri = uri
        self._database = database
        self._closed = False
        self.circuit = Circuit()
        auth = (user, password) if password else None
        try:
            self._driver: Driver = GraphDatabase.driver(
                uri,
                auth=auth,
                connection_timeout=connect_timeout_s,
                connection_acquisition_timeout=max(2 * connect_timeout_s, _RETRY_TIME_S),
                max_transaction_retry_time=_RETRY_TIME_S,
                notifications_min_severity="OFF",
            )
        except (ValueError, ConfigurationError) as exc:
            raise ConfigError(f"CATALOG_STORE: {uri!r} is not a usable Neo4j URI ({_reason(exc)})") from None

    def check_open(self) -> None:
        """Raise Unavailable once `close()` ran: the driver itself would quietly reconnect on a retry."""
        if self._closed:
            raise Unavailable(
                f"CATALOG_STORE: the connection to Neo4j at {self.uri} was closed", public=STORE_UNREACHABLE
            )

    def _run(self, work: Callable[[GraphTx], T], mode: Literal["read", "write"], bookmark: str | None = None) -> T:
        """Run `work` in a session that waits for `bookmark` (or the causal scope's newest), and record a write's
        bookmark in the scope: the driver then routes to any member that has caught up, leader or follower."""
        self.check_open()
        passage = self.circuit.allow()
        if passage is None:
            raise Unavailable(
                f"CATALOG_STORE: Neo4j at {self.uri} was unreachable moments ago; requests are refused at once "
                f"until a trial succeeds (one every {self.circuit.trial_interval_s:g} s, or after /readyz answers)",
                public=STORE_UNREACHABLE,
            )
        try:
            return self._session(work, mode, bookmark)
        finally:
            if passage == "trial":
                self.circuit.trial_done()

    def _session(self, work: Callable[[GraphTx], T], mode: Literal["read", "write"], bookmark: str | None) -> T:
        scope = current_causality()
        name = scope.name if scope else "bookmark"
        wanted = bookmark if bookmark is not None else scope.newest if scope else None
        bookmarks = Bookmarks.from_raw_values(_bookmark_values(wanted, name)) if wanted else None
        raised: list[BaseException] = []
        access = WRITE_ACCESS if mode == "write" else READ_ACCESS
        with (
            _translated(self.uri, raised, name),
            self._driver.session(database=self._database, bookmarks=bookmarks, default_access_mode=access) as session,
        ):
            result = self._attempts(session, work, mode, raised)
            if self.circuit.is_open:
                self.circuit.close()  # a trial succeeded: the store is back
            if mode == "write":
                committed()
                if scope is not None:
                    scope.latest = _bookmark_text(session.last_bookmarks()) or scope.latest
            return result

    def _attempts(
        self, session: Session, work: Callable[[GraphTx], T], mode: str, raised: list[BaseException]
    ) -> T:
        """Our own retry loop, not the driver's `execute_write`: no attempt starts after the request's deadline,
        each gets the time left as its server-side timeout, and a connection lost during a write's commit is
        reported as OUTCOME_UNKNOWN instead of being retried (a retry could apply the change twice)."""
        started, delay = time.monotonic(), _FIRST_RETRY_DELAY_S
        while True:
            left = remaining_s()
            try:
                return self._attempt(session, work, mode, left, raised)
            except (DriverError, Neo4jError) as exc:
                limit = current_deadline()
                if limit is not None and _timed_out(exc):
                    raise limit.exceeded() from None
                if isinstance(exc, ServiceUnavailable):
                    self.circuit.trip()  # unreachable: fail fast from now on, rather than every request waiting
                if self.circuit.is_open or not exc.is_retryable() or time.monotonic() - started > _RETRY_TIME_S:
                    raise
                pause = delay * random.uniform(0.5, 1.5)
                later = remaining_s()
                if later is not None and pause >= later:
                    raise
                log.warning("Neo4j at %s: transaction failed, retrying in %.1f s: %s", self.uri, pause, _reason(exc))
                time.sleep(pause)
                delay *= 2

    def _attempt(
        self, session: Session, work: Callable[[GraphTx], T], mode: str, left: float | None, raised: list[BaseException]
    ) -> T:
        # 0 would mean "no timeout" to the server: a sliver of time left still gets a limit.
        tx = session.begin_transaction(timeout=max(left, 0.01) if left is not None else None)
        try:
            result = work(Neo4jTx(self, tx))
        except Exception as exc:
            raised.append(exc)
            tx.close()
            raise
        try:
            tx.commit()
        except (DriverError, Neo4jError) as exc:
            if mode == "write" and isinstance(exc, (ServiceUnavailable, SessionExpired)):
                raise OutcomeUnknown(
                    "the connection to the store was lost while the change was being committed: it may or may not "
                    "have been written; read before retrying, or retry with the same Idempotency-Key"
                ) from None
            raise
        return result

    def write(self, work: Callable[[GraphTx], T]) -> T:
        try:
            return self._run(work, "write")
        except Unavailable as exc:
            raise exc.nothing_written() from None

    def read(self, work: Callable[[GraphTx], T], *, bookmark: str | None = None) -> T:
        return self._run(work, "read", bookmark)

    def check_bookmark(self, bookmark: str, name: str = "bookmark") -> None:
        _bookmark_values(bookmark, name)

    def _auto_commit(self, query: str) -> None:
        """One statement in its own implicit transaction (schema changes cannot share one with writes)."""
        self.check_open()
        with _translated(self.uri), self._driver.session(database=self._database) as session:
            self.round_trips += 1
            session.run(query).consume()

    def init_schema(self) -> None:
        for statement in _schema_statements():
            self._auto_commit(statement)

    def ping(self) -> None:
        """Ask the store a trivial query, past the circuit; an answer half-opens it (see `circuit`)."""
        # An implicit transaction is not retried, so a dead server is reported at once.
        self._auto_commit("RETURN 1")
        self.circuit.half_open()

    def clear(self) -> None:
        def wipe(tx: GraphTx) -> None:
            assert isinstance(tx, Neo4jTx)
            tx._q("MATCH (n) DETACH DELETE n")

        self.write(wipe)

    def close(self) -> None:
        self._closed = True
        with _translated(self.uri):
            self._driver.close()
