"""The catalog's vocabulary: pydantic models and enums that every layer shares."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from catalog.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

# What a caller sends is held to more than what the store already holds: these checks run only when
# parse_model validates input, so a record stored before a check existed still reads.
_INPUT = "input"
_NOW = "now"
CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of the server's clock a caller's "now" may be

# C0 and C1 controls, lone surrogates and the two non-characters: none is text, and XML 1.0 refuses most of them
# (a title holding one made lineage.svg invalid). Multi-line text keeps tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)
_EMAIL: TypeAdapter[EmailStr] = TypeAdapter(EmailStr)


def _on_input(check: Callable[[str], None]) -> AfterValidator:
    def validate(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and isinstance(info.context, dict) and info.context.get(_INPUT):
            check(value)
        return value

    return AfterValidator(validate)


def _no_control(pattern: re.Pattern[str]) -> Callable[[str], None]:
    def check(value: str) -> None:
        found = pattern.search(value)
        if found:
            raise ValueError(f"must not contain control characters (U+{ord(found.group()):04X} at {found.start()})")

    return check


def is_http_url(value: str) -> bool:
    """Whether `value` is an absolute http(s) URL with a host."""
    try:
        _HTTP_URL.validate_python(value)
    except ValidationError:
        return False
    return True


def _http_url(value: str) -> None:
    if not is_http_url(value):
        raise ValueError("must be an absolute http(s) URL")


def _email(value: str) -> None:
    try:
        _EMAIL.validate_python(value)
    except ValidationError as exc:
        raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("value is not a valid email address: ")) from None


def _field_name(value: str) -> None:
    if "#" in value:
        raise ValueError("must not contain '#' (column lineage names a column as dataset#field)")


LINE = _on_input(_no_control(_CONTROL_OR_BREAK))  # one line of text: a title, a name, a tag
TEXT = _on_input(_no_control(_CONTROL))  # text that may run over lines: a description, a note

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$")]
Text = Annotated[str, StringConstraints(max_length=20_000), TEXT]
Name = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True), LINE]
WebUrl = Annotated[str, StringConstraints(max_length=2000), _on_input(_http_url)]

DEFAULT_CLASSIFICATIONS: tuple[str, ...] = ("PUBLIC", "OFFICIAL", "OFFICIAL_SENSITIVE", "PROTECTED")
DEFAULT_PURPOSES: tuple[str, ...] = (
    "SERVICE_DELIVERY",
    "POLICY_AND_PROGRAMS",
    "RESEARCH",
    "STATISTICS",
    "LAW_ENFORCEMENT",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def rank(scheme: Sequence[str], value: Any) -> int:
    """Position of `value` in an ordered scheme, least restrictive first. A value the scheme does not hold (one
    removed since it was set) ranks past the end: it is treated as more restrictive than anything known."""
    return scheme.index(value) if value in scheme else len(scheme)


class Role(StrEnum):
    PLATFORM_ADMIN = "PLATFORM_ADMIN"
    DATA_OWNER = "DATA_OWNER"
    STEWARD = "STEWARD"
    APPROVER = "APPROVER"
    ANALYST = "ANALYST"
    AUDITOR = "AUDITOR"


class PersonalData(StrEnum):
    """Ordered from least to most restrictive."""

    NONE = "NONE"
    PERSONAL = "PERSONAL"
    SPECIAL_CATEGORY = "SPECIAL_CATEGORY"


PERSONAL_DATA_ORDER: tuple[PersonalData, ...] = tuple(PersonalData)


class Identifiability(StrEnum):
    IDENTIFIED = "IDENTIFIED"
    PSEUDONYMISED = "PSEUDONYMISED"
    DEIDENTIFIED = "DEIDENTIFIED"
    AGGREGATE = "AGGREGATE"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class DatasetStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DEPRECATED = "DEPRECATED"
    WITHDRAWN = "WITHDRAWN"


class PiiTag(StrEnum):
    NONE = "NONE"
    DIRECT_IDENTIFIER = "DIRECT_IDENTIFIER"
    QUASI_IDENTIFIER = "QUASI_IDENTIFIER"
    SENSITIVE = "SENSITIVE"


class LawfulBasis(StrEnum):
    """GDPR Article 6(1) lawful bases."""

    CONSENT = "CONSENT"
    CONTRACT = "CONTRACT"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"
    VITAL_INTERESTS = "VITAL_INTERESTS"
    PUBLIC_TASK = "PUBLIC_TASK"
    LEGITIMATE_INTERESTS = "LEGITIMATE_INTERESTS"


class ProcessKind(StrEnum):
    TRANSFORM = "TRANSFORM"
    AGGREGATE = "AGGREGATE"
    DEIDENTIFY = "DEIDENTIFY"
    LINK = "LINK"
    COPY = "COPY"


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


class Severity(StrEnum):
    MINOR = "MINOR"
    MAJOR = "MAJOR"
    CRITICAL = "CRITICAL"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


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
    id: Identifier
    name: Name
    email: Annotated[str, StringConstraints(max_length=320), _on_input(_email)] | None = None
    agency_id: Identifier
    roles: list[Role] = Field(default_factory=list)
    training: Training | None = None
    # A deactivated person keeps their record and history, but signs in no more and is never a steward.
    active: bool = True


class LegalBasis(Model):
    article6: LawfulBasis
    statute: Annotated[str, StringConstraints(max_length=1000), LINE] | None = None
    covers_identified: bool = False


class DatasetField(Model):
    """A column of a dataset, tagged for personal information."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=300), LINE, _on_input(_field_name)]
    type: Annotated[str, StringConstraints(max_length=100), LINE] = "string"
    description: Text = ""
    pii: PiiTag = PiiTag.NONE


class Licence(Model):
    """The licence a dataset is published under, as its source named it."""

    id: Annotated[str, StringConstraints(max_length=200), LINE] = ""
    title: Annotated[str, StringConstraints(max_length=500), LINE] = ""
    url: WebUrl | None = None


class Distribution(Model):
    """One way to get a dataset (a file, an API, a page): a CKAN resource or a DCAT distribution."""

    title: Annotated[str, StringConstraints(max_length=500), LINE] = ""
    description: Text = ""
    access_url: Annotated[WebUrl, StringConstraints(min_length=1)]
    download_url: WebUrl | None = None
    format: Annotated[str, StringConstraints(max_length=100), LINE] = ""
    media_type: Annotated[str, StringConstraints(max_length=200), LINE] = ""


class Extra(Model):
    """A source-specific property with no place of its own in the catalog (a CKAN extra)."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=200), LINE]
    value: Text = ""


class Dataset(Model):
    id: Identifier
    title: Name
    description: Text = ""
    owner_agency_id: Identifier
    classification: str = "OFFICIAL"
    personal_data: PersonalData = PersonalData.NONE
    identifiability: Identifiability = Identifiability.NOT_APPLICABLE
    legal_basis: LegalBasis | None = None
    permitted_purposes: list[str] = Field(default_factory=list)
    retention_days: int | None = Field(default=None, gt=0)
    collection_method: Text = ""
    consent_notes: Text = ""
    known_limitations: Text = ""
    quality_status: Annotated[str, StringConstraints(max_length=100), LINE] = "UNASSESSED"
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=100), LINE]] = Field(default_factory=list)
    status: DatasetStatus = DatasetStatus.ACTIVE
    version: int = Field(default=1, ge=1)
    fields: list[DatasetField] = Field(default_factory=list)
    source_url: WebUrl | None = None
    # Filled by connectors: where the record was harvested from, and what the source said about it.
    harvest_source: Annotated[str, StringConstraints(max_length=2000)] | None = None
    source_modified: datetime | None = None
    licence: Licence | None = None
    distributions: list[Distribution] = Field(default_factory=list)
    extras: list[Extra] = Field(default_factory=list)
    placeholder: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Computed from lineage by services/propagation.py, never taken from input (see COMPUTED_DATASET_FIELDS).
    effective_classification: str | None = None
    effective_personal_data: PersonalData | None = None
    restricted_by: str | None = None

    @field_validator("fields")
    @classmethod
    def _unique_field_names(cls, value: list[DatasetField]) -> list[DatasetField]:
        names = [f.name for f in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"field names must be unique; repeated: {', '.join(duplicates)}")
        return value


COMPUTED_DATASET_FIELDS = frozenset({"effective_classification", "effective_personal_data", "restricted_by"})


class ColumnLineage(Model):
    """An output column derived from input columns. Columns are named `dataset id#field name`."""

    output: Annotated[str, StringConstraints(min_length=3, max_length=520), LINE]
    inputs: list[Annotated[str, StringConstraints(min_length=3, max_length=520), LINE]] = Field(min_length=1)


class Process(Model):
    """A lineage activity (W3C PROV): it used its inputs and generated its outputs."""

    id: Identifier
    name: Name
    kind: ProcessKind = ProcessKind.TRANSFORM
    run_id: Annotated[str, StringConstraints(max_length=200), LINE] | None = None
    inputs: list[Identifier] = Field(default_factory=list)
    outputs: list[Identifier] = Field(default_factory=list)
    attested_identifiability: Identifiability | None = None
    attested_by: Identifier | None = None
    attestation_note: Text | None = None
    # Who recorded the current run: they may not also attest it (separation of duties).
    recorded_by: str | None = None
    recorded_at: datetime = Field(default_factory=utcnow)
    column_lineage: list[ColumnLineage] = Field(default_factory=list)

    @field_validator("outputs")
    @classmethod
    def _no_self_loop(cls, value: list[str], info: ValidationInfo) -> list[str]:
        both = sorted(set(value) & set(info.data.get("inputs") or ()))
        if both and isinstance(info.context, dict) and info.context.get(_INPUT):
            raise ValueError(f"a process cannot generate a dataset it uses: {', '.join(both)}")
        return value


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


class AuditEvent(Model):
    sequence: int = Field(ge=1)
    at: datetime
    principal_id: str
    action: str
    target_ids: list[str]
    change_digest: str
    change: dict[str, Any] = Field(default_factory=dict)
    decision_id: str | None = None
    prev_hash: str
    hash: str


def parse_model(model: type[M], payload: dict[str, Any], *, prefix: str = "", now: datetime | None = None) -> M:
    """Validate `payload` as input, turning pydantic's error into InvalidInput naming the field.

    Input is held to the checks stored records are spared (URLs, emails, control characters, dates not in the
    future as of `now`, the caller's clock; default: the real time). Only the first problem is reported, as
    `field.path: rule`.
    """
    try:
        return model.model_validate(payload, context={_INPUT: True, _NOW: now or utcnow()})
    except ValidationError as exc:
        raise invalid_from(exc, prefix=prefix) from None


def invalid_from(exc: ValidationError, *, prefix: str = "") -> InvalidInput:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in first["loc"]) or "input"
    rule = first["msg"]
    if first["type"] == "greater_than":
        rule = f"must be > {first['ctx']['gt']}"
    elif first["type"] == "extra_forbidden":
        rule = "is not a known field"
    elif first["type"] == "missing":
        rule = "is required"
    elif rule.startswith("Value error, "):
        rule = rule.removeprefix("Value error, ")
    return InvalidInput(f"{prefix}{path}", rule)
