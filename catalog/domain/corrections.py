"""Corrections: a notice that a dataset was corrected, and its delivery to each agency downstream (an outbox row and
its attempts)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    Field,
    StringConstraints,
)

from catalog.domain.validation import (
    TEXT,
    Identifier,
    Model,
)

__all__ = [
    "CorrectionNotice",
    "DeliveryAttempt",
    "DeliveryState",
    "NoticeDelivery",
    "Severity",
]


class Severity(StrEnum):
    MINOR = "MINOR"
    MAJOR = "MAJOR"
    CRITICAL = "CRITICAL"


class DeliveryAttempt(Model):
    """One try at delivering a correction notice to an agency's webhook."""

    id: Identifier
    notice_id: Identifier
    agency_id: Identifier
    url: str
    attempt: int = Field(ge=1)
    at: datetime
    delivered: bool
    status_code: int | None = None
    error: str | None = None


class DeliveryState(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # every attempt the settings allow was made, none answered 2xx


class NoticeDelivery(Model):
    """A correction notice owed to one agency's webhook: a row of the outbox, written with the notice.

    Any replica may claim it: the claim sets `lease_owner` and moves `next_attempt_at` to the lease's end, so
    a claimer that dies leaves it due again when the lease runs out.
    """

    id: Identifier
    notice_id: Identifier
    agency_id: Identifier
    url: str
    payload: dict[str, Any]
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = Field(0, ge=0)
    next_attempt_at: datetime
    lease_owner: str | None = None
    created_at: datetime


class CorrectionNotice(Model):
    """A correction to a dataset, with everyone downstream who must hear of it."""

    id: Identifier
    dataset_id: Identifier
    description: Annotated[str, StringConstraints(min_length=1, max_length=20_000), TEXT]
    severity: Severity
    issued_by: str
    at: datetime
    affected_dataset_ids: list[Identifier] = Field(default_factory=list)
    steward_ids: list[Identifier] = Field(default_factory=list)
    recipient_agency_ids: list[Identifier] = Field(default_factory=list)
    # Every agency told: the recipients plus the owners of affected downstream datasets.
    agency_ids: list[Identifier] = Field(default_factory=list)
