"""The graph's whitelisted labels and relationship types. Nothing from input ever becomes an identifier."""

from __future__ import annotations

import re
from enum import StrEnum


class Label(StrEnum):
    AGENCY = "Agency"
    PERSON = "Person"
    DATASET = "Dataset"
    FIELD = "Field"
    PROCESS = "Process"
    AGREEMENT = "SharingAgreement"
    SHARE_REQUEST = "ShareRequest"
    DECISION = "Decision"
    AUDIT_EVENT = "AuditEvent"
    NOTICE = "CorrectionNotice"
    APPROVAL = "Approval"
    DELIVERY = "DeliveryAttempt"
    POLICY_VERSION = "PolicyVersion"
    WEB_SESSION = "WebSession"  # operational state of the pages, not catalog data: no audit events
    OUTBOX = "NoticeDelivery"
    IDEMPOTENCY = "IdempotencyRecord"  # a keyed mutation's result, operational state like web sessions: no audit


class Rel(StrEnum):
    MEMBER_OF = "MEMBER_OF"
    STEWARD_OF = "STEWARD_OF"
    OWNED_BY = "OWNED_BY"
    HAS_FIELD = "HAS_FIELD"
    USED = "USED"
    GENERATED_BY = "GENERATED_BY"
    DERIVED_FROM = "DERIVED_FROM"
    PROVIDER = "PROVIDER"
    RECIPIENT = "RECIPIENT"
    COVERS = "COVERS"
    BY = "BY"
    FOR = "FOR"
    RESULTED_IN = "RESULTED_IN"
    ABOUT = "ABOUT"
    REQUESTED_BY = "REQUESTED_BY"
    UNDER = "UNDER"
    NOTICE_OF = "NOTICE_OF"
    HAS_APPROVAL = "HAS_APPROVAL"
    GIVEN_BY = "GIVEN_BY"
    ATTEMPT_OF = "ATTEMPT_OF"
    DELIVERY_OF = "DELIVERY_OF"


# (source label, target label) of every relationship type; edges are checked against it.
ENDPOINTS: dict[Rel, tuple[Label, Label]] = {
    Rel.MEMBER_OF: (Label.PERSON, Label.AGENCY),
    Rel.STEWARD_OF: (Label.PERSON, Label.DATASET),
    Rel.OWNED_BY: (Label.DATASET, Label.AGENCY),
    Rel.HAS_FIELD: (Label.DATASET, Label.FIELD),
    Rel.USED: (Label.PROCESS, Label.DATASET),
    Rel.GENERATED_BY: (Label.DATASET, Label.PROCESS),
    Rel.DERIVED_FROM: (Label.FIELD, Label.FIELD),
    Rel.PROVIDER: (Label.AGREEMENT, Label.AGENCY),
    Rel.RECIPIENT: (Label.AGREEMENT, Label.AGENCY),
    Rel.COVERS: (Label.AGREEMENT, Label.DATASET),
    Rel.BY: (Label.SHARE_REQUEST, Label.PERSON),
    Rel.FOR: (Label.SHARE_REQUEST, Label.DATASET),
    Rel.RESULTED_IN: (Label.SHARE_REQUEST, Label.AGREEMENT),
    Rel.ABOUT: (Label.DECISION, Label.DATASET),
    Rel.REQUESTED_BY: (Label.DECISION, Label.PERSON),
    Rel.UNDER: (Label.DECISION, Label.AGREEMENT),
    Rel.NOTICE_OF: (Label.NOTICE, Label.DATASET),
    Rel.HAS_APPROVAL: (Label.SHARE_REQUEST, Label.APPROVAL),
    Rel.GIVEN_BY: (Label.APPROVAL, Label.PERSON),
    Rel.ATTEMPT_OF: (Label.DELIVERY, Label.NOTICE),
    Rel.DELIVERY_OF: (Label.OUTBOX, Label.NOTICE),
}


def far_label(rel: Rel, direction: str) -> Label:
    """The label at the other end of a `rel` edge followed in `direction` ("out": its target; "in": its source)."""
    source, target = ENDPOINTS[rel]
    return target if direction == "out" else source


# Properties each label may be filtered or ordered on. Backends index these; predicates naming any other
# property are a programming error.
QUERYABLE: dict[Label, frozenset[str]] = {
    Label.AGENCY: frozenset({"name", "kind"}),
    Label.PERSON: frozenset({"agency_id", "roles", "name"}),
    Label.DATASET: frozenset(
        {
            "owner_agency_id",
            "classification",
            "effective_classification",
            "status",
            "tags",
            "personal_data",
            "placeholder",
            "title",
        }
    ),
    Label.FIELD: frozenset({"dataset_id", "name"}),
    Label.PROCESS: frozenset({"kind", "run_id"}),
    Label.AGREEMENT: frozenset(
        {"provider_agency_id", "recipient_agency_id", "status", "purpose", "valid_until", "dataset_ids"}
    ),
    Label.SHARE_REQUEST: frozenset(
        {"requester_id", "recipient_agency_id", "provider_agency_id", "status", "dataset_ids"}
    ),
    Label.DECISION: frozenset(
        {
            "action",
            "principal_id",
            "dataset_id",
            "outcome",
            "deny_kind",
            "rule_ids",
            "decided_by",
            "agency_id",
            "owner_agency_id",
            "at",
        }
    ),
    Label.AUDIT_EVENT: frozenset({"principal_id", "action", "target_ids", "at", "sequence"}),
    Label.NOTICE: frozenset({"dataset_id", "agency_ids", "at", "issued_by"}),
    Label.APPROVAL: frozenset({"request_id", "approver_id"}),
    Label.DELIVERY: frozenset({"notice_id", "agency_id"}),
    Label.POLICY_VERSION: frozenset({"first_used_at"}),
    Label.WEB_SESSION: frozenset({"expires_at"}),
    Label.IDEMPOTENCY: frozenset({"expires_at"}),
    Label.OUTBOX: frozenset({"notice_id", "state", "next_attempt_at"}),
}

# Of those, the properties that hold a list. They are asked only whether they contain a value (`Contains`), which
# no property index answers (SQLite's would index the list's JSON text, and a Neo4j range index does not serve
# list membership), so the backends leave them unindexed: an index that no query reads only slows every write of
# its label. Comparing one whole (`Eq`, `In`, `Cmp`) is a programming error.
LISTS: dict[Label, frozenset[str]] = {
    Label.PERSON: frozenset({"roles"}),
    Label.DATASET: frozenset({"tags"}),
    Label.AGREEMENT: frozenset({"dataset_ids"}),
    Label.SHARE_REQUEST: frozenset({"dataset_ids"}),
    Label.DECISION: frozenset({"rule_ids", "decided_by"}),
    Label.AUDIT_EVENT: frozenset({"target_ids"}),
    Label.NOTICE: frozenset({"agency_ids"}),
}


SAFE_PROPERTY = re.compile(r"^[a-z][a-z0-9_]*$")


def queryable(label: Label, prop: str, *, whole: bool = True) -> str:
    """`prop`, checked before it is written into a query's text: the schema declares it queryable on `label`, it is
    a plain name, and (compared `whole`) it is not a list, which is asked what it contains instead."""
    assert prop in QUERYABLE[label] and SAFE_PROPERTY.match(prop), f"{label}.{prop} is not queryable"
    assert not whole or prop not in LISTS.get(label, ()), f"{label}.{prop} is a list: ask Contains"
    return prop


def indexed(label: Label) -> list[str]:
    """The properties of `label` that the backends index: the queryable ones that are not lists."""
    return sorted(QUERYABLE[label] - LISTS.get(label, frozenset()))


# Properties covered by the full-text index (Neo4j full-text index, SQLite FTS5).
TEXT_INDEXED: dict[Label, tuple[str, ...]] = {Label.DATASET: ("title", "description", "tags")}
