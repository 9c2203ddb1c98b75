"""Datasets and what makes them sensitive: the classification scheme and its order, personal data, identifiability,
the lawful basis for holding them, their fields, licence, distributions and the properties a source gave them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
)

from catalog.domain.validation import (
    LINE,
    Identifier,
    Model,
    Name,
    Text,
    WebUrl,
    _on_input,
    utcnow,
)

__all__ = [
    "COMPUTED_DATASET_FIELDS",
    "DEFAULT_CLASSIFICATIONS",
    "DEFAULT_PURPOSES",
    "PERSONAL_DATA_ORDER",
    "Dataset",
    "DatasetField",
    "DatasetStatus",
    "Distribution",
    "Extra",
    "Identifiability",
    "LawfulBasis",
    "LegalBasis",
    "Licence",
    "PersonalData",
    "PiiTag",
    "rank",
]


def _field_name(value: str) -> None:
    if "#" in value:
        raise ValueError("must not contain '#' (column lineage names a column as dataset#field)")


DEFAULT_CLASSIFICATIONS: tuple[str, ...] = ("PUBLIC", "OFFICIAL", "OFFICIAL_SENSITIVE", "PROTECTED")
DEFAULT_PURPOSES: tuple[str, ...] = (
    "SERVICE_DELIVERY",
    "POLICY_AND_PROGRAMS",
    "RESEARCH",
    "STATISTICS",
    "LAW_ENFORCEMENT",
)


def rank(scheme: Sequence[str], value: Any) -> int:
    """Position of `value` in an ordered scheme, least restrictive first. A value the scheme does not hold (one
    removed since it was set) ranks past the end: it is treated as more restrictive than anything known."""
    return scheme.index(value) if value in scheme else len(scheme)


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
