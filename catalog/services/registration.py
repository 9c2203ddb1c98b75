"""Registering and describing the catalog's entries: agencies, people, datasets and their stewards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from catalog.audit.append import append_event, diff
from catalog.domain import (
    COMPUTED_DATASET_FIELDS,
    AccessRequest,
    Agency,
    Dataset,
    DatasetField,
    Decision,
    Outcome,
    Person,
    Training,
    parse_model,
)
from catalog.errors import InvalidInput, NotFound
from catalog.policy.attributes import Environment, Resource
from catalog.principal import Principal
from catalog.services.context import ServiceContext
from catalog.services.decisions import Decisions
from catalog.services.facts import DatasetFacts, person_resource, person_view
from catalog.services.links import link
from catalog.services.people import grant_decisions_env, training_decision_env
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


def create_dataset(
    decisions: Decisions,
    tx: GraphTx,
    principal: Principal,
    dataset: Dataset,
    props: Props,
    fields: Sequence[DatasetField],
    now: datetime,
) -> None:
    """Decide `register_dataset` on `dataset`, create its node with `props` and append the event (naming its
    `fields`, which the caller writes); raise Refused when the policy refuses (the work rolls back). The node is
    created before the decision is recorded, so the decision links to it."""
    request = AccessRequest(action="register_dataset", dataset_id=dataset.id)
    decision = decisions.decide_one(tx, principal, request, Resource(id=dataset.id, owner=dataset.owner_agency_id), now)
    if decision.outcome == Outcome.PERMIT:
        tx.create_node(Label.DATASET, dataset.id, props)
    decisions.require(tx, principal, [decision], request.action)
    append_event(
        tx,
        principal=principal,
        action=request.action,
        target_ids=[dataset.id],
        change=diff(None, {**props, "fields": [f.name for f in fields]}, personal=DATASET_PERSONAL_PROPS),
        at=now,
        decision_id=decision.id,
    )


def _refuse_computed(payload: dict[str, Any]) -> None:
    for name in sorted(COMPUTED_DATASET_FIELDS & set(payload)):
        raise InvalidInput(name, "is computed from lineage and cannot be set")


class Registration:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.decisions = ctx.decisions

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
        now = self.ctx.clock()
        request = AccessRequest(action="register_agency", agency_id=agency.id)

        def work(tx: GraphTx) -> Agency:
            decision = self.decisions.authorize(tx, principal, request, Resource(id=agency.id, owner=agency.id), now)
            props = to_props(agency)
            tx.create_node(Label.AGENCY, agency.id, props)
            append_event(
                tx,
                principal=principal,
                action="register_agency",
                target_ids=[agency.id],
                change=diff(None, props),
                at=now,
                decision_id=decision.id,
            )
            return agency

        return self.decisions.write(work)

    def register_person(self, principal: Principal, payload: dict[str, Any]) -> Person:
        """Register a person in an agency. Each role they start with is granted as `grant_role` would."""
        now = self.ctx.clock()
        person = parse_model(Person, payload, now=now)

        def work(tx: GraphTx) -> Person:
            props = {**to_props(person), "id": person.id}
            obj = Resource(id=person.id, owner=person.agency_id)
            decisions = [
                self.decisions.decide_one(
                    tx, principal, AccessRequest(action="register_person", person_id=person.id), obj, now
                )
            ]
            for role in person.roles:
                request, env = grant_decisions_env(props, role)
                decisions.append(self.decisions.decide_one(tx, principal, request, obj, now, env))
            self.decisions.require(tx, principal, decisions, f"register_person {person.id}")
            stored = to_props(person)
            tx.create_node(Label.PERSON, person.id, stored)
            link(tx, Rel.MEMBER_OF, person.id, person.agency_id, field="agency_id")
            append_event(
                tx,
                principal=principal,
                action="register_person",
                target_ids=[person.id],
                change=diff(None, stored, personal=PERSONAL_PROPS),
                at=now,
                decision_id=decisions[0].id,
            )
            return person

        return self.decisions.write(work)

    def record_training(self, principal: Principal, person_id: str, payload: dict[str, Any]) -> Person:
        now = self.ctx.clock()
        training = parse_model(Training, payload, prefix="training.", now=now)

        def work(tx: GraphTx) -> Person:
            props = self.decisions.require_visible(tx, principal, Label.PERSON, person_id)
            request, env = training_decision_env(props)
            decision = self.decisions.authorize(tx, principal, request, person_resource(props), now, env=env)
            new = {"training_json": encode_nested(training)}
            tx.update_node(Label.PERSON, person_id, new)
            append_event(
                tx,
                principal=principal,
                action="record_training",
                target_ids=[person_id],
                change=diff({"training_json": props.get("training_json")}, new),
                at=now,
                decision_id=decision.id,
            )
            return from_props(Person, {**props, **new})

        return self.decisions.write(work)

    # -- datasets ----------------------------------------------------------------------------------------

    def register_dataset(self, principal: Principal, payload: dict[str, Any]) -> Dataset:
        """Register a dataset; its id is generated when left out.

        An id that is taken answers CONFLICT, even when the dataset holding it is hidden from the registrant: the
        one place an id can still tell that a hidden dataset exists (see the README's "Hidden is missing").
        """
        now = self.ctx.clock()
        _refuse_computed(payload)
        payload = {"id": self.ctx.new_id("ds"), **payload, "created_at": now, "updated_at": now, "version": 1}
        dataset = parse_model(Dataset, payload)
        # A new dataset has no lineage yet, so its effective values are its own.
        effective = own_effective(dataset.classification, dataset.personal_data.value)
        dataset = dataset.model_copy(update=effective_fields(effective))
        self._check_vocabulary(dataset)

        def work(tx: GraphTx) -> Dataset:
            props = {**dataset_props(dataset), **effective}
            create_dataset(self.decisions, tx, principal, dataset, props, dataset.fields, now)
            link(tx, Rel.OWNED_BY, dataset.id, dataset.owner_agency_id, field="owner_agency_id")
            _write_fields(tx, dataset.id, dataset.fields)
            return dataset

        return self.decisions.write(work)

    def update_dataset(
        self, principal: Principal, dataset_id: str, changes: dict[str, Any], reason: str | None = None
    ) -> Dataset:
        if "id" in changes or "owner_agency_id" in changes:
            raise InvalidInput(next(k for k in ("id", "owner_agency_id") if k in changes), "cannot be changed")
        _refuse_computed(changes)
        now = self.ctx.clock()

        def work(tx: GraphTx) -> Dataset:
            tx.lock(Label.DATASET, dataset_id)  # concurrent updates must not read the same version
            facts, request, resource = self._update_request(tx, principal, dataset_id, now)
            decision = self.decisions.authorize(tx, principal, request, resource, now)
            current = from_props(Dataset, facts.props, fields=read_fields(tx, [dataset_id])[dataset_id])
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
                decision_id=decision.id,
            )
            return updated.model_copy(update=effective_fields(_require(tx, Label.DATASET, dataset_id)))

        return self.decisions.write(work)

    def update_refusal(self, principal: Principal, dataset_id: str) -> Decision | None:
        """The policy's refusal of `update_dataset` by `principal`, decided as the update itself would be but not
        recorded (None when it would permit): whether a page offers the edit form. NotFound, as a read, when they
        may not see the dataset."""
        now = self.ctx.clock()

        def work(tx: GraphTx) -> Decision | None:
            _, request, resource = self._update_request(tx, principal, dataset_id, now)
            decision = self.decisions.decide_one(tx, principal, request, resource, now)
            return None if decision.outcome == Outcome.PERMIT else decision

        return self.ctx.store.read(work)

    def _update_request(
        self, tx: GraphTx, principal: Principal, dataset_id: str, now: datetime
    ) -> tuple[DatasetFacts, AccessRequest, Resource]:
        """What `update_dataset` asks the policy, for the update and for its preview alike. NotFound, as a read,
        when `principal` may not see the dataset."""
        self.decisions.require_visible(tx, principal, Label.DATASET, dataset_id)
        facts = self.decisions.datasets(tx, [dataset_id])[dataset_id]
        request = AccessRequest(action="update_dataset", dataset_id=dataset_id)
        return facts, request, facts.resource(now, self.ctx.settings.classifications)

    def assign_steward(self, principal: Principal, dataset_id: str, person_id: str) -> None:
        """Name a steward of a dataset: an active member of the owning agency with the STEWARD or DATA_OWNER role."""
        self._stewardship(principal, dataset_id, person_id, assign=True)

    def unassign_steward(self, principal: Principal, dataset_id: str, person_id: str) -> None:
        """Remove a steward from a dataset."""
        self._stewardship(principal, dataset_id, person_id, assign=False)

    def _stewardship(self, principal: Principal, dataset_id: str, person_id: str, *, assign: bool) -> None:
        action = "assign_steward" if assign else "unassign_steward"
        now = self.ctx.clock()

        def work(tx: GraphTx) -> None:
            tx.lock(Label.DATASET, dataset_id)
            self.decisions.require_visible(tx, principal, Label.DATASET, dataset_id)
            candidate = self.decisions.visible(tx, principal, Label.PERSON, [person_id]).get(person_id)
            if candidate is None:
                raise InvalidInput("person_id", f"no Person with id {person_id!r}")
            facts = self.decisions.datasets(tx, [dataset_id])[dataset_id]
            stewards = sorted(facts.stewards)
            if (person_id in stewards) == assign:
                if assign:
                    return  # already a steward: nothing changes, nothing to record
                raise InvalidInput("person_id", f"{person_id} is not a steward of {dataset_id}")
            request = AccessRequest(action=action, dataset_id=dataset_id, person_id=person_id)
            env = Environment(action=action, person=person_view(candidate))
            resource = facts.resource(now, self.ctx.settings.classifications)
            decision = self.decisions.authorize(tx, principal, request, resource, now, env=env)
            if assign:
                link(tx, Rel.STEWARD_OF, person_id, dataset_id, field="person_id")
            else:
                tx.delete_edges(Rel.STEWARD_OF, source=person_id, target=dataset_id)
            after = sorted({*stewards, person_id}) if assign else [s for s in stewards if s != person_id]
            append_event(
                tx,
                principal=principal,
                action=action,
                target_ids=[dataset_id, person_id],
                change={"dataset_id": dataset_id, "stewards": {"before": stewards, "after": after}},
                at=now,
                decision_id=decision.id,
            )

        self.decisions.write(work)


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
