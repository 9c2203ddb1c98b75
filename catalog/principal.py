"""Who is asking: the principal a request acts as, built from a verified token or the anonymous default."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.domain import Role


@dataclass(frozen=True)
class Principal:
    id: str
    agency_id: str | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    anonymous: bool = False

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)


ANONYMOUS = Principal(id="anonymous", anonymous=True)
# The catalog itself, for loading demo data and connectors run in-process by an operator.
SYSTEM = Principal(id="system", roles=frozenset({Role.PLATFORM_ADMIN}))
