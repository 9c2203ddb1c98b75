"""Who acts: agencies, the people who belong to them, their roles and their data-ethics training."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    EmailStr,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from catalog.domain.validation import (
    _INPUT,
    _NOW,
    CLOCK_SKEW,
    LINE,
    Identifier,
    Model,
    Name,
    WebUrl,
    _on_input,
    utcnow,
)

__all__ = [
    "ANONYMOUS_ID",
    "RESERVED_PERSON_IDS",
    "SYSTEM_ID",
    "Agency",
    "Person",
    "Role",
    "Training",
    "is_reserved_person_id",
]

# The ids the catalog's own principals act under (catalog.principal): the catalog itself, loading demo data and
# running connectors, and the anonymous visitor. No person may hold one, in any letter case: a person registered
# as `system` read the catalog's own audit events as events they had caused, hidden datasets' attributes included.
SYSTEM_ID = "system"
ANONYMOUS_ID = "anonymous"
RESERVED_PERSON_IDS = frozenset({SYSTEM_ID, ANONYMOUS_ID})


_EMAIL: TypeAdapter[EmailStr] = TypeAdapter(EmailStr)


def is_reserved_person_id(person_id: str) -> bool:
    """Whether `person_id` is one of the catalog's own ids, in any letter case."""
    return person_id.casefold() in RESERVED_PERSON_IDS


def _not_reserved(value: str) -> None:
    if is_reserved_person_id(value):
        reserved = ", ".join(sorted(RESERVED_PERSON_IDS))
        raise ValueError(f"is reserved for the catalog itself ({reserved}); choose another id")


def _email(value: str) -> None:
    try:
        _EMAIL.validate_python(value)
    except ValidationError as exc:
        raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("value is not a valid email address: ")) from None


class Role(StrEnum):
    PLATFORM_ADMIN = "PLATFORM_ADMIN"
    DATA_OWNER = "DATA_OWNER"
    STEWARD = "STEWARD"
    APPROVER = "APPROVER"
    ANALYST = "ANALYST"
    AUDITOR = "AUDITOR"


class Agency(Model):
    id: Identifier
    name: Name
    kind: Annotated[str, StringConstraints(max_length=100), LINE] = "GOVERNMENT_AGENCY"
    webhook_url: WebUrl | None = None


class Training(Model):
    """Data-ethics training: when it was completed and until when it counts."""

    completed_at: datetime
    expires_at: datetime

    @field_validator("completed_at")
    @classmethod
    def _not_in_the_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        context = info.context if isinstance(info.context, dict) else {}
        now = context.get(_NOW) or utcnow()
        if context.get(_INPUT) and value.tzinfo is not None and value > now + CLOCK_SKEW:
            raise ValueError("must not be in the future")
        return value

    @field_validator("expires_at")
    @classmethod
    def _after_completion(cls, value: datetime, info: Any) -> datetime:
        completed = info.data.get("completed_at")
        if completed is not None and value <= completed:
            raise ValueError("must be after completed_at")
        return value

    def is_current(self, at: datetime) -> bool:
        return self.completed_at <= at < self.expires_at


class Person(Model):
    id: Annotated[Identifier, _on_input(_not_reserved)]
    name: Name
    email: Annotated[str, StringConstraints(max_length=320), _on_input(_email)] | None = None
    agency_id: Identifier
    roles: list[Role] = Field(default_factory=list)
    training: Training | None = None
    # A deactivated person keeps their record and history, but signs in no more and is never a steward.
    active: bool = True
