"""The one authorization gate every read and write passes through.

`Gate` is the contract; `BuiltinGate` is a small fixed rule set used until the Casbin engine takes over.
Visibility is returned as a store predicate, so lists are filtered inside the store query and a lookup by id
runs the very same predicate: single reads and lists cannot disagree.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from catalog.domain import Role
from catalog.errors import Forbidden
from catalog.principal import Principal
from catalog.store.query import TRUE, And, Eq, IdIn, In, Predicate, Related, any_of
from catalog.store.schema import Rel


class Gate(ABC):
    @abstractmethod
    def visible_datasets(self, principal: Principal) -> Predicate:
        """The datasets whose metadata `principal` may read, as a store predicate."""

    @abstractmethod
    def authorize(self, principal: Principal, action: str, target: dict[str, Any]) -> None:
        """Raise Forbidden, with the reason, unless `principal` may perform `action` on `target`."""


class BuiltinGate(Gate):
    """Interim rules: admins and auditors see everything; staff see OFFICIAL and below, their agency's
    datasets, datasets they steward and datasets shared with their agency; anonymous users see PUBLIC."""

    def __init__(self, classifications: list[str], open_to_staff: str = "OFFICIAL") -> None:
        cut = classifications.index(open_to_staff) + 1 if open_to_staff in classifications else 1
        self._public = classifications[0]
        self._staff_levels = tuple(classifications[:cut])

    def visible_datasets(self, principal: Principal) -> Predicate:
        if principal.has(Role.PLATFORM_ADMIN, Role.AUDITOR):
            return TRUE
        if principal.anonymous or principal.agency_id is None:
            return Eq("effective_classification", self._public)
        return any_of(
            In("effective_classification", self._staff_levels),
            Eq("owner_agency_id", principal.agency_id),
            Related(Rel.STEWARD_OF, "in", IdIn((principal.id,))),
            Related(Rel.COVERS, "in", And((Eq("status", "ACTIVE"), Eq("recipient_agency_id", principal.agency_id)))),
        )

    def authorize(self, principal: Principal, action: str, target: dict[str, Any]) -> None:
        if principal.has(Role.PLATFORM_ADMIN):
            return
        if principal.anonymous:
            raise Forbidden(f"{action}: sign in first; anonymous users may only read public metadata")
        agency = target.get("agency_id")
        same_agency = agency is not None and agency == principal.agency_id
        steward = principal.id in target.get("steward_ids", ())
        allowed = {
            "register_person": same_agency and principal.has(Role.DATA_OWNER),
            "record_training": same_agency and principal.has(Role.DATA_OWNER),
            "register_dataset": same_agency and principal.has(Role.DATA_OWNER, Role.STEWARD),
            "update_dataset": (same_agency and principal.has(Role.DATA_OWNER)) or steward,
            "assign_steward": same_agency and principal.has(Role.DATA_OWNER),
            "record_lineage": (same_agency and principal.has(Role.DATA_OWNER, Role.STEWARD)) or steward,
            "attest_process": (same_agency and principal.has(Role.DATA_OWNER, Role.STEWARD)) or steward,
        }.get(action, False)
        if not allowed:
            raise Forbidden(f"{action}: {principal.id} lacks the role or agency this needs")
