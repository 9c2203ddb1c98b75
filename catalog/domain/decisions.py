"""Decisions: what was asked (`AccessRequest`), the outcome, every rule evaluated with its conditions, the Five Safes
and the remedies a refusal names."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    Field,
    StringConstraints,
)

from catalog.domain.people import Role
from catalog.domain.sharing import AccessMethod
from catalog.domain.validation import (
    Identifier,
    Model,
)

__all__ = [
    "AccessRequest",
    "ConditionResult",
    "Decision",
    "DenyKind",
    "Outcome",
    "Remedy",
    "RuleEvaluation",
    "Safe",
    "SafeResult",
    "SafeStatus",
]


class Outcome(StrEnum):
    PERMIT = "PERMIT"
    DENY = "DENY"


class DenyKind(StrEnum):
    EXPLICIT = "EXPLICIT"
    IMPLICIT = "IMPLICIT"


class SafeStatus(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class ConditionResult(Model):
    name: str
    passed: bool
    seen: dict[str, Any] = Field(default_factory=dict)
    expected: str = ""


class RuleEvaluation(Model):
    rule_id: str
    effect: str
    matched: bool
    conditions: list[ConditionResult] = Field(default_factory=list)


class Safe(StrEnum):
    """The Five Safes, as the policy's condition names prefix them."""

    PROJECT = "project"
    PEOPLE = "people"
    SETTINGS = "settings"
    DATA = "data"
    OUTPUTS = "outputs"


class Remedy(Model):
    """What would have to change for a refused request to be permitted, as something a person can do."""

    safe: Safe | None = None
    # rule/condition that would then hold; none for advice on who else could act
    conditions: list[str] = Field(default_factory=list)
    text: Annotated[str, StringConstraints(min_length=1)]


class SafeResult(Model):
    safe: str
    status: SafeStatus
    evidence: list[str] = Field(default_factory=list)


class AccessRequest(Model):
    """What a decision was asked: an action on a dataset, or an administrative action about a person or agency."""

    action: str
    dataset_id: Identifier | None = None
    person_id: Identifier | None = None  # the person an administrative action is about
    agency_id: Identifier | None = None  # the agency an administrative action is about (register_agency)
    role: Role | None = None  # the role granted or withdrawn (grant_role)
    purpose: str | None = None
    access_method: AccessMethod | None = None
    fields: list[str] = Field(default_factory=list)


class Decision(Model):
    id: Identifier
    at: datetime
    principal_id: str
    request: AccessRequest
    outcome: Outcome
    deny_kind: DenyKind | None = None
    determining_rules: list[str] = Field(default_factory=list)
    evaluations: list[RuleEvaluation] = Field(default_factory=list)
    safes: list[SafeResult] = Field(default_factory=list)
    obligations: list[str] = Field(default_factory=list)
    reason: Annotated[str, StringConstraints(min_length=1)]
    remedies: list[Remedy] = Field(default_factory=list)
    policy_version: str
    engine_version: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    agreement_id: Identifier | None = None
