"""The one authorization gate every read and write passes through. It asks the policy engine.

Visibility comes back as a store predicate compiled from the read_metadata rules, so lists are filtered inside
the store query, and a lookup by id runs the very same predicate: single reads and lists cannot disagree.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from catalog.domain import Outcome, utcnow
from catalog.errors import Forbidden
from catalog.policy.attributes import Environment, RequestAttributes, Resource, Subject
from catalog.policy.engine import LoadedPolicy, PolicyEngine
from catalog.policy.visibility import bind_now, visibility_predicate
from catalog.principal import Principal
from catalog.store.query import Predicate
from catalog.store.records import timestamp


class Gate(ABC):
    @abstractmethod
    def visible_datasets(self, principal: Principal) -> Predicate:
        """The datasets whose metadata `principal` may read, as a store predicate."""

    @abstractmethod
    def authorize(self, principal: Principal, action: str, target: dict[str, Any]) -> None:
        """Raise Forbidden, with the policy's reason, unless `principal` may perform `action` on `target`."""


def subject(principal: Principal) -> Subject:
    return Subject(
        id=principal.id,
        agency=principal.agency_id or "",
        roles=sorted(role.value for role in principal.roles),
        anonymous=principal.anonymous,
    )


@lru_cache(maxsize=4096)
def _visibility(policy: LoadedPolicy, principal: Principal) -> Predicate:
    """Compiled once per policy version and principal (both immutable; a reload brings a new policy object)."""
    return visibility_predicate(policy.rules, subject(principal))


class PolicyGate(Gate):
    def __init__(self, engine: PolicyEngine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def visible_datasets(self, principal: Principal) -> Predicate:
        return bind_now(_visibility(self.engine.policy, principal), timestamp(self.clock()))

    def authorize(self, principal: Principal, action: str, target: dict[str, Any]) -> None:
        resource = Resource(
            id=str(target.get("dataset_id") or target.get("id") or ""),
            owner=str(target.get("agency_id") or ""),
            stewards=list(target.get("steward_ids", ())),
        )
        evaluation = self.engine.decide(RequestAttributes(subject(principal), resource, Environment(action=action)))
        if evaluation.outcome != Outcome.PERMIT:
            raise Forbidden(f"{action}: {evaluation.reason}")
