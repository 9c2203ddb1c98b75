"""GraphQL input written from a payload as the services take it, so a test states its data once for both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graphene.utils.str_converters import to_camel_case


def graphql_input(payload: Any) -> Any:
    """`payload` as GraphQL input: its keys in camelCase (graphene's names), its datetimes as ISO 8601 text."""
    if isinstance(payload, dict):
        return {to_camel_case(key): graphql_input(value) for key, value in payload.items()}
    if isinstance(payload, list):
        return [graphql_input(item) for item in payload]
    if isinstance(payload, datetime):
        return payload.isoformat()
    return payload
