"""Development tooling, not part of the running service: what tests, benchmarks and local runs need beside it (the
embedded Neo4j launcher). The catalog never imports it."""

from __future__ import annotations

__all__: list[str] = []
