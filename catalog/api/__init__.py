"""The HTTP surface: a thin Starlette app around the GraphQL schema and a few plain endpoints."""
