"""The HTTP surface: a thin Starlette app around the GraphQL schema and a few plain endpoints."""

# Its modules are its surface: the package itself exports nothing.
__all__: list[str] = []
