"""Lineage, W3C PROV style: a process used its input datasets and generated its outputs, column by column."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from catalog.domain.datasets import Identifiability
from catalog.domain.validation import (
    _INPUT,
    LINE,
    Identifier,
    Model,
    Name,
    Text,
    utcnow,
)

__all__ = [
    "ColumnLineage",
    "Process",
    "ProcessKind",
]


class ProcessKind(StrEnum):
    TRANSFORM = "TRANSFORM"
    AGGREGATE = "AGGREGATE"
    DEIDENTIFY = "DEIDENTIFY"
    LINK = "LINK"
    COPY = "COPY"


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
