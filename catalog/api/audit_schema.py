"""Root fields for auditors: the audit trail, paginated and filtered."""

from __future__ import annotations

import graphene

from catalog.api import audit_types
from catalog.api.operations import filtered_list
from catalog.services.audit_trail import AuditFilter


class AuditFilterInput(graphene.InputObjectType):
    target_id = graphene.ID(description="Events naming this id among their targets (a dataset, person, ...).")
    principal = graphene.String(description="Events caused by this principal.")
    action = graphene.String(description="e.g. update_dataset, decide_access.")
    at_from = graphene.DateTime(name="from", description="At or after this time.")
    at_to = graphene.DateTime(name="to", description="Before this time.")


class AuditQuery(graphene.ObjectType):
    audit_trail = filtered_list(
        audit_types.AuditEventConnection,
        AuditFilterInput,
        AuditFilter,
        "audit.list",
        "Audit events, oldest first. Auditors and platform admins see every event; other signed-in people only the "
        "events they caused; anonymous callers are FORBIDDEN.",
    )
