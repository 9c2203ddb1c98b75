"""People as the catalog records them: who a signed-in person is, and administering their roles and status.

The catalog's record is the authority. A token only names a person; their agency, roles and whether they are
active come from the store on each request (reused for `CATALOG_AUTH__PERSON_CACHE_S` at most, and forgotten at
once when changed through this process). A token for a person the catalog does not know, or has deactivated, is
refused as UNAUTHENTICATED.

Granting or withdrawing a role (`grant_role`, decided once per role changed) and deactivating or reactivating a
person are decided by the policy (`policies/rules/00-administration.yaml`) and recorded with the change.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import TTLCache

from catalog.audit.append import append_event
from catalog.domain import AccessRequest, Outcome, Person, Role, is_reserved_person_id
from catalog.errors import CatalogError, InvalidInput, Unauthenticated
from catalog.policy.attributes import Environment
from catalog.principal import Principal
from catalog.services.context import ServiceContext
from catalog.services.facts import person_resource, person_view
from catalog.store.base import GraphTx, Props
from catalog.store.records import from_props
from catalog.store.schema import Label

CACHE_SIZE = 4096


def parse_roles(values: Sequence[Any], field: str = "roles") -> list[Role]:
    """Role names as Roles, in the order given without repeats. InvalidInput names the first unknown one."""
    roles: list[Role] = []
    for i, value in enumerate(values):
        try:
            role = Role(value)
        except ValueError:
            raise InvalidInput(f"{field}.{i}", f"must be one of {', '.join(Role)}") from None
        if role not in roles:
            roles.append(role)
    return roles


def grant_decisions_env(props: Props, role: Role) -> tuple[AccessRequest, Environment]:
    """What a grant (or withdrawal) of `role` to the person `props` asks the policy."""
    request = AccessRequest(action="grant_role", person_id=str(props["id"]), role=role)
    return request, Environment(action="grant_role", role=role.value, person=person_view(props))


def status_decision_env(props: Props, active: bool) -> tuple[AccessRequest, Environment]:
    """What deactivating (or, with `active`, reactivating) the person `props` asks the policy."""
    action = "reactivate_person" if active else "deactivate_person"
    request = AccessRequest(action=action, person_id=str(props["id"]))
    return request, Environment(action=action, person=person_view(props))


def training_decision_env(props: Props) -> tuple[AccessRequest, Environment]:
    """What recording the data-ethics training of the person `props` asks the policy."""
    request = AccessRequest(action="record_training", person_id=str(props["id"]))
    return request, Environment(action="record_training", person=person_view(props))


@dataclass(frozen=True)
class PersonChanges:
    """What the policy would let someone change on a person now: what a page offers them to do."""

    roles: tuple[Role, ...]  # the roles they may grant or withdraw
    status: bool  # whether they may deactivate the person (reactivate, when the person is deactivated)
    training: bool  # whether they may record the person's data-ethics training


def _cannot_act(option: str | None, token_problem: str, option_problem: str) -> CatalogError:
    """Why a person cannot act: to a token's bearer, Unauthenticated; to the command line, bad input naming `option`."""
    return Unauthenticated(token_problem) if option is None else InvalidInput(option, option_problem)


class People:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.decisions = ctx.decisions
        ttl = ctx.settings.auth.person_cache_s
        self._cache: TTLCache[str, Principal] | None = TTLCache(CACHE_SIZE, ttl) if ttl > 0 else None
        self._lock = threading.Lock()

    # -- who is asking ----------------------------------------------------------------------------------------

    def principal(self, person_id: str, *, option: str | None = None) -> Principal:
        """The principal of the person a verified token names, as the catalog records them now.

        Raises Unauthenticated when the catalog has no such person or has deactivated them, or when the token names
        an id the catalog itself acts under (a record stored under one before it was reserved signs in no more).
        Given the command-line `option` that named the person instead (`--as`), it raises InvalidInput naming it:
        no token is involved there.
        """
        if is_reserved_person_id(person_id):
            raise _cannot_act(
                option,
                f"the token names {person_id!r}, an id reserved for the catalog itself; no person signs in under it",
                f"{person_id!r} is an id reserved for the catalog itself, not a person",
            )
        if self._cache is not None:
            with self._lock:
                known = self._cache.get(person_id)
            if known is not None:
                return known
        props = self.ctx.store.read(lambda tx: tx.get_node(Label.PERSON, person_id))
        if props is None:
            raise _cannot_act(
                option,
                f"the token names person {person_id!r}, whom the catalog does not know; "
                "ask your agency's data owner to register you",
                f"the catalog has no person {person_id!r}",
            )
        if not props.get("active", True):
            deactivated = f"person {person_id!r} has been deactivated"
            raise _cannot_act(
                option,
                f"{deactivated}; ask your agency's data owner",
                f"{deactivated}; name someone else, or have a data owner of their agency reactivate them",
            )
        principal = Principal.acting_as(from_props(Person, props))
        if self._cache is not None:
            with self._lock:
                self._cache[person_id] = principal
        return principal

    def forget(self, person_id: str) -> None:
        """Drop what this process remembers of a person, so their next request reads the store."""
        if self._cache is not None:
            with self._lock:
                self._cache.pop(person_id, None)

    # -- administering people ---------------------------------------------------------------------------------

    def set_roles(
        self, principal: Principal, person_id: str, roles: Sequence[Any], reason: str | None = None
    ) -> Person:
        """Give a person exactly `roles`. Each role granted or withdrawn is its own decision (`grant_role`)."""
        wanted = parse_roles(roles)
        now = self.ctx.clock()

        def work(tx: GraphTx) -> Person:
            tx.lock(Label.PERSON, person_id)
            props = self.decisions.require_visible(tx, principal, Label.PERSON, person_id)
            before = parse_roles(props.get("roles", []))
            changed = [r for r in wanted if r not in before] + [r for r in before if r not in wanted]
            if not changed:
                return from_props(Person, props)
            decisions = []
            for role in changed:
                request, env = grant_decisions_env(props, role)
                decisions.append(self.decisions.decide_one(tx, principal, request, person_resource(props), now, env))
            self.decisions.require(tx, principal, decisions, f"set_roles of {person_id}")
            after = [role.value for role in wanted]
            tx.update_node(Label.PERSON, person_id, {"roles": after})
            append_event(
                tx,
                principal=principal,
                action="set_roles",
                target_ids=[person_id],
                change={"roles": {"before": [r.value for r in before], "after": after}, "reason": reason},
                at=now,
                decision_id=decisions[0].id,
            )
            return from_props(Person, {**props, "roles": after})

        person = self.decisions.write(work)
        self.forget(person_id)
        return person

    def deactivate(self, principal: Principal, person_id: str, reason: str) -> Person:
        """Deactivate a person: their tokens are refused from then on; their record and history stay."""
        return self._set_active(principal, person_id, False, reason)

    def reactivate(self, principal: Principal, person_id: str, reason: str) -> Person:
        """Let a deactivated person sign in again, with the roles they had."""
        return self._set_active(principal, person_id, True, reason)

    def _set_active(self, principal: Principal, person_id: str, active: bool, reason: str) -> Person:
        action = "reactivate_person" if active else "deactivate_person"
        if not reason.strip():
            raise InvalidInput("reason", f"is required: say why the person is {'re' if active else 'de'}activated")
        now = self.ctx.clock()

        def work(tx: GraphTx) -> Person:
            tx.lock(Label.PERSON, person_id)
            props = self.decisions.require_visible(tx, principal, Label.PERSON, person_id)
            request, env = status_decision_env(props, active)
            decision = self.decisions.authorize(tx, principal, request, person_resource(props), now, env=env)
            if bool(props.get("active", True)) != active:
                tx.update_node(Label.PERSON, person_id, {"active": active})
                append_event(
                    tx,
                    principal=principal,
                    action=action,
                    target_ids=[person_id],
                    change={"active": {"before": not active, "after": active}, "reason": reason.strip()},
                    at=now,
                    decision_id=decision.id,
                )
            return from_props(Person, {**props, "active": active})

        person = self.decisions.write(work)
        self.forget(person_id)
        return person

    def changes_open_to(self, principal: Principal, person_id: str) -> PersonChanges:
        """The roles `principal` could grant or withdraw on the person now, whether they could deactivate (or
        reactivate) them, and whether they could record their training: each decided as the change itself would
        be, but not recorded. What a page offers to do. NotFound, as reading the person, when they may not see them."""
        now = self.ctx.clock()

        def work(tx: GraphTx) -> PersonChanges:
            props = self.decisions.require_visible(tx, principal, Label.PERSON, person_id)
            if principal.anonymous:
                return PersonChanges((), False, False)
            roles = tuple(
                role for role in Role if self._permits(tx, principal, props, now, *grant_decisions_env(props, role))
            )
            active = bool(props.get("active", True))
            status = self._permits(tx, principal, props, now, *status_decision_env(props, not active))
            training = self._permits(tx, principal, props, now, *training_decision_env(props))
            return PersonChanges(roles, status, training)

        return self.ctx.store.read(work)

    def _permits(
        self, tx: GraphTx, principal: Principal, props: Props, now: datetime, request: AccessRequest, env: Environment
    ) -> bool:
        decision = self.decisions.decide_one(tx, principal, request, person_resource(props), now, env)
        return decision.outcome == Outcome.PERMIT


__all__ = [
    "People",
    "PersonChanges",
    "grant_decisions_env",
    "parse_roles",
    "status_decision_env",
    "training_decision_env",
]
