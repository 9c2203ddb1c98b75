"""The policy's view of the graph: the facts a decision is made on, read in the caller's transaction.

The person asking as the catalog records them becomes the subject (`subject_of`); a dataset with its stewards,
fields and covering agreements becomes the resource (`DatasetFacts.resource`); an agreement, or a person an
administrative action is about, becomes part of the environment (`agreement_view`, `person_view`). Only
`services/decisions.py` asks the engine; this module only shapes what it is asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from catalog.domain import PERSONAL_DATA_ORDER, AgreementStatus, Identifiability, LegalBasis, Training, rank, status_at
from catalog.policy.attributes import AgreementView, PersonView, Resource, Subject
from catalog.principal import Principal
from catalog.store.base import GraphTx, Props
from catalog.store.records import timestamp
from catalog.store.schema import Label, Rel

__all__ = [
    "DatasetFacts",
    "agreement_status",
    "agreement_view",
    "person_resource",
    "person_view",
    "read_facts",
    "subject_of",
]

IDENTIFIED = {Identifiability.IDENTIFIED.value, Identifiability.PSEUDONYMISED.value}
_PERSONAL_SCHEME = [p.value for p in PERSONAL_DATA_ORDER]


def subject_of(principal: Principal, person: Props | None, now: datetime) -> Subject:
    """Who asks: the principal's id, agency and roles, with their training from their person node.

    The principal is the catalog's own record of the person: the API and the CLI build it from the store
    (`services.people`), never from a token's claims, so the subject and the read predicates compiled for the
    same principal always agree.
    """
    training = None
    if person and person.get("training_json"):
        training = Training.model_validate_json(str(person["training_json"]))
    return Subject(
        id=principal.id,
        agency=principal.agency_id or "",
        roles=sorted(role.value for role in principal.roles),
        anonymous=principal.anonymous,
        training_current=training is not None and training.is_current(now),
        training_expires=timestamp(training.expires_at) if training else "",
    )


def person_view(props: Props | None) -> PersonView:
    """The person an administrative action is about (`r.env.person`); an empty view when there is none."""
    if props is None:
        return PersonView()
    return PersonView(
        id=str(props["id"]),
        agency=str(props.get("agency_id") or ""),
        roles=sorted(str(role) for role in props.get("roles", [])),
        active=bool(props.get("active", True)),
    )


def person_resource(props: Props) -> Resource:
    """A person's record as the object of an administrative action: owned by their agency."""
    return Resource(id=str(props["id"]), owner=str(props.get("agency_id") or ""))


def agreement_status(props: Props, now: datetime) -> AgreementStatus:
    """A stored agreement's status at `now` (see `domain.status_at`): how every reader reads it."""
    return status_at(str(props.get("status", AgreementStatus.ACTIVE)), str(props["valid_until"]), now)


def agreement_view(props: Props | None, purpose: str | None, now: datetime, scheme: Sequence[str]) -> AgreementView:
    """The agreement as the policy sees it (`r.env.agreement`), with its status as of `now`."""
    if props is None:
        return AgreementView()
    status = agreement_status(props, now)
    return AgreementView(
        id=str(props["id"]),
        status=status.value,
        status_reason=str(props.get("status_reason") or ""),
        active=status == AgreementStatus.ACTIVE and str(props["valid_from"]) <= timestamp(now),
        expired=status == AgreementStatus.EXPIRED,
        valid_until=str(props["valid_until"]),
        recipient=str(props.get("recipient_agency_id", "")),
        purpose=str(props.get("purpose", "")),
        covers_purpose=purpose is not None and props.get("purpose") == purpose,
        access_method=str(props.get("access_method", "")),
        max_classification_rank=rank(scheme, props.get("max_classification")),
        max_classification=str(props.get("max_classification") or ""),
        max_personal_data_rank=rank(_PERSONAL_SCHEME, props.get("max_personal_data", "NONE")),
        allows_identified=bool(props.get("allows_identified", False)),
        approved_fields=list(props.get("approved_fields", [])),
    )


@dataclass
class DatasetFacts:
    """One dataset as the policy sees it, with the agreements that cover it (in any state)."""

    props: Props
    stewards: list[str]
    fields: list[str]  # names, in their declared order
    agreements: list[Props] = field(default_factory=list)

    @property
    def owner(self) -> str:
        return str(self.props.get("owner_agency_id", ""))

    def resource(self, now: datetime, scheme: Sequence[str], restricted_by: str | None = None) -> Resource:
        """`r.obj` for this dataset. `restricted_by` is the upstream path as the asker may read it (redacted)."""
        props = self.props
        recipients = [
            str(a["recipient_agency_id"])
            for a in self.agreements
            if agreement_status(a, now) == AgreementStatus.ACTIVE
        ]
        legal = LegalBasis.model_validate_json(props["legal_basis_json"]) if props.get("legal_basis_json") else None
        classification = str(props.get("effective_classification") or props.get("classification", ""))
        personal = str(props.get("effective_personal_data") or props.get("personal_data", "NONE"))
        identifiability = str(props.get("identifiability", "NOT_APPLICABLE"))
        return Resource(
            id=str(props["id"]),
            owner=self.owner,
            status=str(props.get("status", "ACTIVE")),
            classification=classification,
            classification_rank=rank(scheme, classification),
            own_classification=str(props.get("classification", "")),
            personal_data=personal,
            personal_data_rank=rank(_PERSONAL_SCHEME, personal),
            identifiability=identifiability,
            identified=identifiability in IDENTIFIED,
            permitted_purposes=list(props.get("permitted_purposes", [])),
            has_legal_basis=legal is not None,
            legal_basis_covers_identified=bool(legal and legal.covers_identified),
            stewards=sorted(self.stewards),
            fields=self.fields,
            recipients=sorted(set(recipients)),
            restricted_by=str(props.get("restricted_by") or "") if restricted_by is None else restricted_by,
        )


def read_facts(
    tx: GraphTx, dataset_ids: Sequence[str], principal: Principal
) -> tuple[dict[str, DatasetFacts], Props | None]:
    """The datasets that exist among `dataset_ids`, and the principal's person node (None if it has none).

    One round trip whatever the number of datasets: the datasets, their stewards, fields and covering agreements,
    and the person.
    """
    ids = list(dict.fromkeys(dataset_ids))
    nodes, (stewards, field_ids, covering) = tx.get_with_neighbors(
        Label.DATASET,
        ids,
        [(Rel.STEWARD_OF, "in"), (Rel.HAS_FIELD, "out"), (Rel.COVERS, "in")],
        also={Label.PERSON: [] if principal.anonymous else [principal.id]},
    )
    fields, agreements = nodes[Label.FIELD], nodes[Label.AGREEMENT]
    facts = {}
    for id in ids:
        if id not in nodes[Label.DATASET]:
            continue
        declared = sorted((fields[f] for f in field_ids[id] if f in fields), key=lambda f: int(f.get("position", 0)))
        facts[id] = DatasetFacts(
            nodes[Label.DATASET][id],
            stewards[id],
            [str(f["name"]) for f in declared],
            [agreements[a] for a in covering[id] if a in agreements],
        )
    return facts, nodes[Label.PERSON].get(principal.id)
