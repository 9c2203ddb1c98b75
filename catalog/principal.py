"""Who is asking: the principal a request acts as, built from a verified token or the anonymous default."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.domain import ANONYMOUS_ID, SYSTEM_ID, Person, Role


@dataclass(frozen=True)
class Principal:
    id: str
    agency_id: str | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    anonymous: bool = False

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @classmethod
    def acting_as(cls, person: Person) -> Principal:
        """The principal of a registered person: their id, agency and roles."""
        return cls(id=person.id, agency_id=person.agency_id, roles=frozenset(person.roles))


ANONYMOUS = Principal(id=ANONYMOUS_ID, anonymous=True)
# The catalog itself, for loading demo data and connectors run in-process by an operator.
SYSTEM = Principal(id=SYSTEM_ID, roles=frozenset({Role.PLATFORM_ADMIN}))
