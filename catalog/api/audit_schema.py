"""Root fields for auditors: the audit trail, paginated and filtered."""

from __future__ import annotations

from typing import Any

import graphene

from catalog.api import audit_types, inputs, types
from catalog.api.context import request_context
from catalog.services.audit_trail import AuditFilter


class AuditFilterInput(graphene.InputObjectType):
    target_id = graphene.ID(description="Events naming this id among their targets (a dataset, person, ...).")
    principal = graphene.String(description="Events caused by this principal.")
    action = graphene.String(description="e.g. update_dataset, decide_access.")
    at_from = graphene.DateTime(name="from", description="At or after this time.")
    at_to = graphene.DateTime(name="to", description="Before this time.")


class AuditQuery(graphene.ObjectType):
    audit_trail = graphene.Field(
        audit_types.AuditEventConnection,
        required=True,
        filter=AuditFilterInput(),
        first=graphene.Int(),
        after=graphene.String(),
        description="Audit events, oldest first. Auditors and platform admins see every event; other signed-in "
        "people only the events they caused; anonymous callers are FORBIDDEN.",
    )

    @staticmethod
    async def resolve_audit_trail(
        root: Any, info: graphene.ResolveInfo, filter: Any = None, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        services = request_context(info).services
        criteria = AuditFilter(**inputs.plain(filter)) if filter else AuditFilter()
        return await types.page_of(info, services.audit.list, criteria, services.reads.page_size(first), after)
