"""Sharing: share requests, the approvers' verdicts on them, and the agreements they yield, with an agreement's
status as of a given time (`status_at`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
)

from catalog.domain.datasets import LegalBasis, PersonalData
from catalog.domain.validation import (
    LINE,
    TEXT,
    Identifier,
    Model,
    Text,
    utcnow,
)

__all__ = [
    "TIME_BOUND_STATUSES",
    "AccessMethod",
    "AgreementParticulars",
    "AgreementStatus",
    "Approval",
    "ApprovalVerdict",
    "ShareRequest",
    "ShareRequestStatus",
    "SharingAgreement",
    "SharingFrequency",
    "status_at",
]


class AccessMethod(StrEnum):
    SECURE_ENCLAVE = "SECURE_ENCLAVE"
    AGGREGATE_QUERY = "AGGREGATE_QUERY"
    API = "API"
    DOWNLOAD = "DOWNLOAD"


class AgreementStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


# Until the validity window ends these read as themselves; afterwards as EXPIRED.
TIME_BOUND_STATUSES = frozenset({AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED})


def status_at(stored: AgreementStatus | str, valid_until: datetime | str, now: datetime) -> AgreementStatus:
    """An agreement's status at `now`: the stored one, or EXPIRED once its validity window has passed.

    Expiry is never written, so every reader at the same instant sees the same status. `valid_until` may be the
    stored ISO 8601 text or a datetime.
    """
    status = AgreementStatus(stored)
    end = valid_until if isinstance(valid_until, datetime) else datetime.fromisoformat(valid_until)
    if status in TIME_BOUND_STATUSES and now >= end:
        return AgreementStatus.EXPIRED
    return status


class ShareRequestStatus(StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    DENIED = "DENIED"


class ApprovalVerdict(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class SharingFrequency(StrEnum):
    """Whether data is disclosed once or on an ongoing basis (Ireland's Data Sharing and Governance Act s. 19(1)(h))."""

    ONCE_OFF = "ONCE_OFF"
    ONGOING = "ONGOING"


class AgreementParticulars(Model):
    """What the public registers of agreements name that an agreement's terms do not hold: its title, a public
    summary, the benefits expected, the provider's function the purpose serves, further processing, whether it is
    once-off or ongoing, the DPIA summary, security measures, retention and the next review. All optional: asked for
    with a share request, kept with the agreement it yields, shown on its page and published in the register.

    Published as written, so nothing here may name or describe a person (the form says so)."""

    title: Annotated[str, StringConstraints(max_length=500), LINE] = ""
    summary: Text = ""
    expected_benefits: Text = ""
    function: Text = ""
    further_processing: Text = ""
    frequency: SharingFrequency | None = None
    dpia_summary: Text = ""
    security_measures: Text = ""
    retention: Text = ""
    review_date: datetime | None = None


class SharingAgreement(Model):
    id: Identifier
    provider_agency_id: Identifier
    recipient_agency_id: Identifier
    dataset_ids: list[Identifier]
    approved_fields: list[Annotated[str, LINE]] = Field(default_factory=list)
    purpose: Annotated[str, LINE]
    legal_basis: LegalBasis
    access_method: AccessMethod
    max_classification: str = "OFFICIAL"
    max_personal_data: PersonalData = PersonalData.NONE
    allows_identified: bool = False
    conditions: list[Annotated[str, TEXT]] = Field(default_factory=list)
    obligations: list[str] = Field(default_factory=list)
    valid_from: datetime
    valid_until: datetime
    status: AgreementStatus = AgreementStatus.ACTIVE
    status_reason: Text | None = None
    created_at: datetime = Field(default_factory=utcnow)
    share_request_id: Identifier | None = None
    decision_ids: list[Identifier] = Field(default_factory=list)
    version: int = Field(default=1, ge=1)
    updated_at: datetime | None = None
    particulars: AgreementParticulars = Field(default_factory=AgreementParticulars)

    def status_at(self, now: datetime) -> AgreementStatus:
        """Its status at `now` (EXPIRED once the window has passed)."""
        return status_at(self.status, self.valid_until, now)


class ShareRequest(Model):
    id: Identifier
    requester_id: Identifier
    recipient_agency_id: Identifier
    dataset_ids: list[Identifier]
    purpose: Annotated[str, LINE]
    legal_basis: LegalBasis
    access_method: AccessMethod
    fields: list[Annotated[str, LINE]] = Field(default_factory=list)
    justification: Text = ""
    valid_from: datetime
    valid_until: datetime
    status: ShareRequestStatus = ShareRequestStatus.PENDING_APPROVAL
    required_approvals: list[str] = Field(default_factory=list)
    filled_approvals: list[str] = Field(default_factory=list)  # those given so far
    agreement_id: Identifier | None = None
    created_at: datetime = Field(default_factory=utcnow)
    provider_agency_id: Identifier | None = None
    decision_ids: list[Identifier] = Field(default_factory=list)
    status_reason: Text | None = None
    version: int = Field(default=1, ge=1)
    updated_at: datetime | None = None
    particulars: AgreementParticulars = Field(default_factory=AgreementParticulars)


class Approval(Model):
    """One approver's verdict on a share request, and the approvals it fills (see ShareRequest.required_approvals)."""

    id: Identifier
    request_id: Identifier
    approver_id: Identifier
    verdict: ApprovalVerdict
    fills: list[str] = Field(default_factory=list)
    note: Text = ""
    conditions: list[Annotated[str, StringConstraints(min_length=1, max_length=2000), TEXT]] = Field(
        default_factory=list
    )
    decision_ids: list[Identifier] = Field(default_factory=list)
    at: datetime
    sequence: int = Field(default=1, ge=1, description="Its place among the request's verdicts, 1 for the first.")
