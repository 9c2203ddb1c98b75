"""GraphQL for tests: input written from a payload as the services take it, so a test states its data once for
both, and the store round trips a query costs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from graphene.utils.str_converters import to_camel_case

from catalog.services import Services

Gql = Callable[..., dict[str, Any]]


def graphql_input(payload: Any) -> Any:
    """`payload` as GraphQL input: its keys in camelCase (graphene's names), its datetimes as ISO 8601 text."""
    if isinstance(payload, dict):
        return {to_camel_case(key): graphql_input(value) for key, value in payload.items()}
    if isinstance(payload, list):
        return [graphql_input(item) for item in payload]
    if isinstance(payload, datetime):
        return payload.isoformat()
    return payload


def trips_of(gql: Gql, services: Services, query: str, as_: str = "auditor", runs: int = 3) -> int:
    """The store round trips one run of `query` (answered without errors) takes. The fewest of a few runs: a
    query's own count is the same every run, and anything else using the store at the time (a background thread
    starting late on a loaded machine, a cached person expiring: a count of 6 for 4, and of 9 for 7, came of it on
    CI) only ever adds to it."""
    counts = []
    for _ in range(runs):
        before = services.store.round_trips
        answer = gql(query, as_=as_)
        counts.append(services.store.round_trips - before)
        assert "errors" not in answer, answer["errors"]
    return min(counts)
