"""Cedar through cedarpy, in-process: the schema, entities and requests, all built from our RequestAttributes.

A request's subject becomes a `Person` entity and its dataset a `Dataset` entity whose parent is its owning
`Agency`; the environment (less the action, which is the Cedar action) is the context. The schema is read off the
attribute dataclasses, so it names every attribute our rules may read, with its type.
The policy set and the entities of a whole request table are parsed once; a decision then passes only the request.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import cedarpy

from catalog.policy.attributes import Environment, RequestAttributes, Resource, Subject

ACCESS_POLICIES = Path(__file__).with_name("access.cedar")
ACTIONS = ("access", "request_share")
_SCALARS = {str: "String", bool: "Boolean", int: "Long"}


def _cedar_type(annotation: Any) -> dict[str, Any]:
    if annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    if typing.get_origin(annotation) is list:
        (element,) = typing.get_args(annotation)
        return {"type": "Set", "element": _cedar_type(element)}
    assert isinstance(annotation, type) and dataclasses.is_dataclass(annotation), f"no Cedar type for {annotation!r}"
    return _record(annotation)  # AgreementView, PersonView, PendingRequest: records in the context


def _record(cls: type[Any], leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {"type": "Record",
            "attributes": {f.name: _cedar_type(hints[f.name]) for f in fields(cls) if f.name not in leave_out}}


def schema() -> dict[str, Any]:
    """The Cedar schema (JSON form) of our request attributes."""
    applies = {"principalTypes": ["Person"], "resourceTypes": ["Dataset"],
               "context": _record(Environment, leave_out=("action",))}
    return {"": {
        "entityTypes": {
            "Agency": {},
            "Person": {"shape": _record(Subject, leave_out=("id",))},
            "Dataset": {"memberOfTypes": ["Agency"], "shape": _record(Resource, leave_out=("id",))},
        },
        "actions": {action: {"appliesTo": applies} for action in ACTIONS},
    }}


def _uid(kind: str, id: str) -> dict[str, str]:
    return {"type": kind, "id": id}


def entities_and_requests(table: list[RequestAttributes]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Cedar entities for every request's subject, dataset and owner, and one Cedar request per row."""
    agencies: dict[str, dict[str, Any]] = {}
    entities: list[dict[str, Any]] = []
    requests: list[dict[str, Any]] = []
    for row, attributes in enumerate(table):
        person, dataset = _uid("Person", f"{row}:{attributes.sub.id}"), _uid("Dataset", f"{row}:{attributes.obj.id}")
        owner = _uid("Agency", attributes.obj.owner)
        agencies.setdefault(attributes.obj.owner, {"uid": owner, "attrs": {}, "parents": []})
        entities.append({"uid": person, "attrs": _attrs(attributes.sub), "parents": []})
        entities.append({"uid": dataset, "attrs": _attrs(attributes.obj), "parents": [owner]})
        context = asdict(attributes.env)
        action = context.pop("action")
        requests.append({"principal": person, "action": _uid("Action", action), "resource": dataset,
                         "context": context})
    return [*agencies.values(), *entities], requests


def _attrs(entity: Subject | Resource) -> dict[str, Any]:
    attrs = asdict(entity)
    del attrs["id"]
    return attrs


@dataclass
class CedarTable:
    """A policy set and a request table, parsed once, ready to decide."""

    policies: cedarpy.PolicySet
    entities: cedarpy.Entities
    requests: list[dict[str, Any]]

    @classmethod
    def prepare(cls, policy_text: str, table: list[RequestAttributes]) -> CedarTable:
        entities, requests = entities_and_requests(table)
        return cls(cedarpy.PolicySet.from_str(policy_text),
                   cedarpy.Entities.from_json_str(json.dumps(entities), schema()), requests)

    def allowed(self, row: int) -> bool:
        """The outcome alone (Cedar computes its diagnostics all the same; they are not read)."""
        return bool(cedarpy.is_authorized(self.requests[row], self.policies, self.entities).allowed)

    def explained(self, row: int) -> tuple[bool, list[str]]:
        """The outcome and Cedar's diagnostics: the determining policies by their @id (errors raise)."""
        return _explanation(cedarpy.is_authorized(self.requests[row], self.policies, self.entities))

    def allowed_batch(self) -> list[bool]:
        return [bool(r.allowed) for r in cedarpy.is_authorized_batch(self.requests, self.policies, self.entities)]

    def explained_batch(self) -> list[tuple[bool, list[str]]]:
        return [_explanation(r) for r in cedarpy.is_authorized_batch(self.requests, self.policies, self.entities)]


def _explanation(result: Any) -> tuple[bool, list[str]]:
    diagnostics = result.diagnostics
    if diagnostics.errors:
        raise RuntimeError(f"Cedar evaluation errors: {diagnostics.errors}")
    names = diagnostics.id_annotations_by_reason
    return bool(result.allowed), sorted(names.get(reason, reason) for reason in diagnostics.reasons)
