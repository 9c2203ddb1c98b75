"""What the policy engine is told, and what it said: the subject's and the datasets' attributes as read from the
graph, and the Decision built from an evaluation. Access checks and the sharing workflow both decide through it,
so the two can never describe the same dataset or the same verdict differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.domain import (
    PERSONAL_DATA_ORDER,
    AccessRequest,
    AgreementStatus,
    Decision,
    Identifiability,
    LegalBasis,
    Training,
)
from catalog.policy.attributes import RequestAttributes, Resource, Subject
from catalog.policy.engine import Evaluation
from catalog.principal import Principal
from catalog.services.agreements import effective_status
from catalog.services.context import ServiceContext
from catalog.store.base import GraphTx, Props
from catalog.store.records import timestamp
from catalog.store.schema import Label, Rel

IDENTIFIED = {Identifiability.IDENTIFIED.value, Identifiability.PSEUDONYMISED.value}


def subject_of(principal: Principal, person: Props | None, now: datetime) -> Subject:
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


def _rank(scheme: Sequence[str], value: Any) -> int:
    return scheme.index(value) if value in scheme else len(scheme)


def _resource_of(
    props: Props, stewards: list[str], fields: list[str], recipients: list[str], scheme: Sequence[str]
) -> Resource:
    legal = LegalBasis.model_validate_json(props["legal_basis_json"]) if props.get("legal_basis_json") else None
    classification = str(props.get("effective_classification") or props.get("classification", ""))
    personal = str(props.get("effective_personal_data") or props.get("personal_data", "NONE"))
    identifiability = str(props.get("identifiability", "NOT_APPLICABLE"))
    return Resource(
        id=str(props["id"]),
        owner=str(props.get("owner_agency_id", "")),
        status=str(props.get("status", "ACTIVE")),
        classification=classification,
        classification_rank=_rank(scheme, classification),
        own_classification=str(props.get("classification", "")),
        personal_data=personal,
        personal_data_rank=_rank([p.value for p in PERSONAL_DATA_ORDER], personal),
        identifiability=identifiability,
        identified=identifiability in IDENTIFIED,
        permitted_purposes=list(props.get("permitted_purposes", [])),
        has_legal_basis=legal is not None,
        legal_basis_covers_identified=bool(legal and legal.covers_identified),
        stewards=sorted(stewards),
        fields=fields,
        recipients=sorted(set(recipients)),
        restricted_by=str(props.get("restricted_by", "")),
    )


@dataclass
class DatasetFacts:
    """One dataset as the policy sees it, with the agreements that cover it (in any state)."""

    props: Props
    stewards: list[str]
    fields: list[str]  # names, in their declared order
    agreements: list[Props] = field(default_factory=list)

    def resource(self, now: datetime, scheme: Sequence[str]) -> Resource:
        recipients = [
            str(a["recipient_agency_id"]) for a in self.agreements if effective_status(a, now) == AgreementStatus.ACTIVE
        ]
        return _resource_of(self.props, self.stewards, self.fields, recipients, scheme)


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


def decision_of(
    ctx: ServiceContext,
    principal: Principal,
    request: AccessRequest,
    attributes: RequestAttributes,
    evaluation: Evaluation,
    now: datetime,
    agreement_id: str | None = None,
) -> Decision:
    """The Decision recording `evaluation` of `attributes`: what was asked, the outcome and every reason."""
    return Decision(
        id=ctx.new_id("dec"),
        at=now,
        principal_id=principal.id,
        request=request,
        outcome=evaluation.outcome,
        deny_kind=evaluation.deny_kind,
        determining_rules=evaluation.determining_rules,
        evaluations=evaluation.evaluations,
        safes=evaluation.safes,
        obligations=evaluation.obligations,
        reason=evaluation.reason,
        policy_version=evaluation.policy_version,
        engine_version=evaluation.engine_version,
        attributes=attributes.snapshot(),
        agreement_id=agreement_id,
    )


__all__ = ["DatasetFacts", "decision_of", "read_facts", "subject_of"]
