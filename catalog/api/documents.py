"""From a query's text to a document ready to execute: parse under a token limit, check the limits, validate.

The order is the point: each step is bounded before the next one starts. The parser stops at
CATALOG_API__MAX_TOKENS; the limits pass is linear in what was parsed; only a document within every limit is
validated (validation compares pairs of fields, so it is the step an unchecked document makes expensive).
Clients send the same few documents again and again, so parsed and validated documents are kept by their text,
within a memory budget (CATALOG_API__PARSE_CACHE_BYTES) rather than a count: one 750 KB document held 54 MB.
Each keeps the outcomes of its limits pass too, by the few variable values the pass reads (limits.KnownOutcomes).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import ASTValidationRule

from catalog.api.limits import KnownOutcomes
from catalog.config import ApiSettings

# Measured with tracemalloc: a parsed document holds 400 to 600 bytes for each token (its token and AST node).
TOKEN_BYTES = 600
_TOO_MANY_TOKENS = "Document contains more than"


@dataclass
class Prepared:
    """A parsed document, its estimated size in memory, its validation errors once it has been validated, and
    the outcomes of its limits pass so far."""

    document: DocumentNode
    size: int
    errors: tuple[GraphQLError, ...] | None = None
    limits: KnownOutcomes = field(default_factory=KnownOutcomes)


def _tokens(document: DocumentNode) -> int:
    count, token = 0, document.loc.start_token if document.loc else None
    while token is not None:
        count, token = count + 1, token.next
    return count


def _naming_the_setting(exc: GraphQLError) -> GraphQLError:
    if not exc.message.startswith(f"Syntax Error: {_TOO_MANY_TOKENS}"):
        return exc
    return GraphQLError(f"{exc.message} (CATALOG_API__MAX_TOKENS)", source=exc.source, positions=exc.positions)


class DocumentCache:
    """Prepared documents by their text, least recently used first out, within `max_bytes` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self._lock = threading.Lock()  # documents are prepared on worker threads

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> Prepared | None:
        with self._lock:
            found = self._entries.get(query)
            if found is not None:
                self._entries.move_to_end(query)
            return found

    def put(self, query: str, prepared: Prepared) -> None:
        size = prepared.size + len(query)
        if size > self.max_bytes:
            return
        with self._lock:
            if query in self._entries:
                return
            while self.bytes + size > self.max_bytes:
                evicted_query, evicted = self._entries.popitem(last=False)
                self.bytes -= evicted.size + len(evicted_query)
            self._entries[query] = prepared
            self.bytes += size


class DocumentPreparer:
    def __init__(self, schema: GraphQLSchema, settings: ApiSettings, rules: list[type[ASTValidationRule]]) -> None:
        self.schema = schema
        self.settings = settings
        self.rules = rules
        self.cache = DocumentCache(settings.parse_cache_bytes)

    def ready(self, query: str) -> bool:
        """Whether `query` is parsed and validated already: what is left of preparing it is cheap."""
        found = self.cache.get(query)
        return found is not None and found.errors is not None

    def prepare(self, query: str, variables: dict[str, Any]) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
        """The document and its errors (a document of None when it does not parse).

        Raises LimitExceeded, naming the setting, for a document over a limit with these variables.
        """
        prepared = self.cache.get(query)
        if prepared is None:
            try:
                document = parse(query, max_tokens=self.settings.max_tokens)
            except GraphQLError as exc:
                return None, (_naming_the_setting(exc),)
            prepared = Prepared(document, TOKEN_BYTES * _tokens(document))
            self.cache.put(query, prepared)
        prepared.limits.check(prepared.document, variables, self.settings)
        if prepared.errors is None:
            prepared.errors = tuple(validate(self.schema, prepared.document, self.rules))
        return prepared.document, prepared.errors
