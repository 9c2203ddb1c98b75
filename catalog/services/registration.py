"""Registering and describing the catalog's entries: agencies, people, datasets and their stewards."""

from __future__ import annotations

from typing import Any

from catalog.domain import COMPUTED_DATASET_FIELDS, Agency, Dataset, DatasetField, Person, Training, parse_model
from catalog.errors import InvalidInput, NotFound
from catalog.principal import Principal
from catalog.services.audit import append_event, diff
from catalog.services.context import ServiceContext
from catalog.services.links import link
from catalog.services.locking import lock
from catalog.services.propagation import effective_fields, own_effective, propagate
from catalog.store.base import GraphTx, Props
from catalog.store.query import In
from catalog.store.records import encode_nested, from_props, to_props
from catalog.store.schema import Label, Rel

PERSONAL_PROPS = frozenset({"name", "email"})
# Harvested extras can carry people's names (CKAN author, maintainer): the trail keeps only their digest.
DATASET_PERSONAL_PROPS = frozenset({"extras_json"})
# A change to any of these alters who may lawfully receive the data, so it must say why.
REASON_REQUIRED = frozenset({"classification", "legal_basis", "permitted_purposes"})


def field_id(dataset_id: str, name: str) -> str:
    return f"{dataset_id}#{name}"


def dataset_props(dataset: Dataset) -> Props:
    # Effective values are computed from lineage (services/propagation.py), never written from a description.
    return to_props(dataset, exclude={"fields", *COMPUTED_DATASET_FIELDS})


def _refuse_computed(payload: dict[str, Any]) -> None:
    for name in sorted(COMPUTED_DATASET_FIELDS & set(payload)):
        raise InvalidInput(name, "is computed from lineage and cannot be set")


class Registration:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- vocabulary checks -------------------------------------------------------------------------------

    def _check_vocabulary(self, dataset: Dataset) -> None:
        scheme = self.ctx.settings.classifications
        if dataset.classification not in scheme:
            raise InvalidInput("classification", f"must be one of {', '.join(scheme)}")
        purposes = self.ctx.settings.purposes
        for i, purpose in enumerate(dataset.permitted_purposes):
            if purpose not in purposes:
                raise InvalidInput(f"permitted_purposes.{i}", f"must be one of {', '.join(purposes)}")

    # -- agencies and people -----------------------------------------------------------------------------

    def register_agency(self, principal: Principal, payload: dict[str, Any]) -> Agency:
        agency = parse_model(Agency, payload)
        self.ctx.gate.authorize(principal, "register_agency", {"agency_id": agency.id})

        def work(tx: GraphTx) -> Agency:
            props = to_props(agency)
            tx.create_node(Label.AGENCY, agency.id, props)
            append_event(
                tx,
                principal=principal,
                action="register_agency",
                target_ids=[agency.id],
                change=diff(None, props),
                at=self.ctx.clock(),
            )
            return agency

        return self.ctx.store.write(work)

    def register_person(self, principal: Principal, payload: dict[str, Any]) -> Person:
        person = parse_model(Person, payload, now=self.ctx.clock())
        self.ctx.gate.authorize(principal, "register_person", {"agency_id": person.agency_id})

        def work(tx: GraphTx) -> Person:
            props = to_props(person)
            tx.create_node(Label.PERSON, person.id, props)
            link(tx, Rel.MEMBER_OF, person.id, person.agency_id, field="agency_id")
            append_event(
                tx,
                principal=principal,
                action="register_person",
                target_ids=[person.id],
                change=diff(None, props, personal=PERSONAL_PROPS),
                at=self.ctx.clock(),
            )
            return person

        return self.ctx.store.write(work)

    def record_training(self, principal: Principal, person_id: str, payload: dict[str, Any]) -> Person:
        training = parse_model(Training, payload, prefix="training.", now=self.ctx.clock())

        def work(tx: GraphTx) -> Person:
            props = _require(tx, Label.PERSON, person_id)
            self.ctx.gate.authorize(principal, "record_training", {"agency_id": props.get("agency_id")})
            new = {"training_json": encode_nested(training)}
            tx.update_node(Label.PERSON, person_id, new)
            append_event(
                tx,
                principal=principal,
                action="record_training",
                target_ids=[person_id],
                change=diff({"training_json": props.get("training_json")}, new),
                at=self.ctx.clock(),
            )
            return from_props(Person, {**props, **new})

        return self.ctx.store.write(work)

    # -- datasets ----------------------------------------------------------------------------------------

    def register_dataset(self, principal: Principal, payload: dict[str, Any]) -> Dataset:
        now = self.ctx.clock()
        _refuse_computed(payload)
        payload = {"id": self.ctx.new_id("ds"), **payload, "created_at": now, "updated_at": now, "version": 1}
        dataset = parse_model(Dataset, payload)
        # A new dataset has no lineage yet, so its effective values are its own.
        effective = own_effective(dataset.classification, dataset.personal_data.value)
        dataset = dataset.model_copy(update=effective_fields(effective))
        self._check_vocabulary(dataset)
        self.ctx.gate.authorize(principal, "register_dataset", {"agency_id": dataset.owner_agency_id})

        def work(tx: GraphTx) -> Dataset:
            props = {**dataset_props(dataset), **effective}
            tx.create_node(Label.DATASET, dataset.id, props)
            link(tx, Rel.OWNED_BY, dataset.id, dataset.owner_agency_id, field="owner_agency_id")
            _write_fields(tx, dataset.id, dataset.fields)
            append_event(
                tx,
                principal=principal,
                action="register_dataset",
                target_ids=[dataset.id],
                change=diff(
                    None, {**props, "fields": [f.name for f in dataset.fields]}, personal=DATASET_PERSONAL_PROPS
                ),
                at=now,
            )
            return dataset

        return self.ctx.store.write(work)

    def update_dataset(
        self, principal: Principal, dataset_id: str, changes: dict[str, Any], reason: str | None = None
    ) -> Dataset:
        if "id" in changes or "owner_agency_id" in changes:
            raise InvalidInput(next(k for k in ("id", "owner_agency_id") if k in changes), "cannot be changed")
        _refuse_computed(changes)
        now = self.ctx.clock()

        def work(tx: GraphTx) -> Dataset:
            lock(tx, Label.DATASET, dataset_id)  # concurrent updates must not read the same version
            props = _require(tx, Label.DATASET, dataset_id)
            stewards = tx.neighbors(Rel.STEWARD_OF, [dataset_id], "in")[dataset_id]
            self.ctx.gate.authorize(
                principal, "update_dataset", {"agency_id": props.get("owner_agency_id"), "steward_ids": stewards}
            )
            current = from_props(Dataset, props, fields=read_fields(tx, [dataset_id])[dataset_id])
            merged = {**current.model_dump(), **changes, "version": current.version + 1, "updated_at": now}
            updated = parse_model(Dataset, merged)
            self._check_vocabulary(updated)
            before, after = dataset_props(current), dataset_props(updated)
            sensitive = sorted(
                k.removesuffix("_json") for k in diff(before, after) if k.removesuffix("_json") in REASON_REQUIRED
            )
            if sensitive and not (reason and reason.strip()):
                raise InvalidInput("reason", f"is required when changing {', '.join(sensitive)}")
            tx.update_node(Label.DATASET, dataset_id, {**{k: None for k in before if k not in after}, **after})
            if "fields" in changes:
                _replace_fields(tx, dataset_id, updated.fields)
            change = diff(before, after, personal=DATASET_PERSONAL_PROPS)
            if "fields" in changes:
                # Names, types and PII tags: a re-tagged column is a change an auditor must see.
                change["fields"] = {
                    "before": [f.model_dump(mode="json", exclude={"description"}) for f in current.fields],
                    "after": [f.model_dump(mode="json", exclude={"description"}) for f in updated.fields],
                }
            # Its own classification or personal data may have changed: so may everything derived from it.
            propagated = propagate(tx, [dataset_id], self.ctx.settings.classifications)
            append_event(
                tx,
                principal=principal,
                action="update_dataset",
                target_ids=[dataset_id],
                change={"changes": change, "reason": reason, **({"propagated": propagated} if propagated else {})},
                at=now,
            )
            return updated.model_copy(update=effective_fields(_require(tx, Label.DATASET, dataset_id)))

        return self.ctx.store.write(work)

    def assign_steward(self, principal: Principal, dataset_id: str, person_id: str) -> None:
        def work(tx: GraphTx) -> None:
            props = _require(tx, Label.DATASET, dataset_id)
            self.ctx.gate.authorize(principal, "assign_steward", {"agency_id": props.get("owner_agency_id")})
            link(tx, Rel.STEWARD_OF, person_id, dataset_id, field="person_id")
            append_event(
                tx,
                principal=principal,
                action="assign_steward",
                target_ids=[dataset_id, person_id],
                change={"steward": {"before": None, "after": person_id}},
                at=self.ctx.clock(),
            )

        self.ctx.store.write(work)


def _require(tx: GraphTx, label: Label, id: str) -> Props:
    props = tx.get_node(label, id)
    if props is None:
        raise NotFound(label.value, id)
    return props


def _write_fields(tx: GraphTx, dataset_id: str, fields: list[DatasetField]) -> None:
    for position, column in enumerate(fields):
        fid = field_id(dataset_id, column.name)
        tx.merge_node(Label.FIELD, fid, {**to_props(column), "dataset_id": dataset_id, "position": position})
        tx.merge_edge(Rel.HAS_FIELD, dataset_id, fid)


def _replace_fields(tx: GraphTx, dataset_id: str, fields: list[DatasetField]) -> None:
    keep = {field_id(dataset_id, f.name) for f in fields}
    for fid in tx.neighbors(Rel.HAS_FIELD, [dataset_id], "out")[dataset_id]:
        if fid not in keep:
            tx.delete_node(Label.FIELD, fid)
    _write_fields(tx, dataset_id, fields)


def read_fields(tx: GraphTx, dataset_ids: list[str]) -> dict[str, list[DatasetField]]:
    """The fields of many datasets, in their declared order, in one query."""
    result: dict[str, list[DatasetField]] = {id: [] for id in dataset_ids}
    page = tx.find_nodes(Label.FIELD, In("dataset_id", tuple(dataset_ids)), first=100_000)
    rows = sorted(page.items, key=lambda item: (str(item[1]["dataset_id"]), int(item[1].get("position", 0))))
    for _, props in rows:
        result[str(props["dataset_id"])].append(from_props(DatasetField, props))
    return result
