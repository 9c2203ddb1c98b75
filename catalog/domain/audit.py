"""The audit trail's record: one hash-chained event per change (see catalog/audit/ for appending and verifying)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    Field,
)

from catalog.domain.validation import (
    Model,
)

__all__ = [
    "AuditEvent",
]


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
