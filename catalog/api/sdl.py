"""The schema as SDL, exactly as `schema.graphql` holds it."""

from __future__ import annotations

from graphql import print_schema

from catalog.api.schema import schema


def schema_sdl() -> str:
    return print_schema(schema.graphql_schema).rstrip() + "\n"
