"""Edges whose far end was named in a request: a missing end is the request's fault, not the catalog's."""

from __future__ import annotations

from catalog.errors import InvalidInput, NotFound
from catalog.store.base import GraphTx
from catalog.store.schema import Rel


def link(tx: GraphTx, rel: Rel, source: str, target: str, *, field: str) -> None:
    """Merge an edge, reporting a missing endpoint as InvalidInput on `field` (the input that named it)."""
    try:
        tx.merge_edge(rel, source, target)
    except NotFound as exc:
        raise InvalidInput(field, f"no {exc.kind} with id {exc.id!r}") from None
