"""GraphQL types for the audit trail and a dataset's metadata history."""

from __future__ import annotations

import graphene

from catalog.api.errors import camel
from catalog.api.types import connection_type
from catalog.services.history import FieldChange, HistoryEntry


class AuditEvent(graphene.ObjectType):
    class Meta:
        description = "One hash-chained audit event: who did what to which targets, and the digest of the change."

    sequence = graphene.Int(required=True, description="Position in the chain, from 1, with no gaps.")
    at = graphene.DateTime(required=True)
    principal_id = graphene.String(required=True, description="Who acted ('system' for the catalog itself).")
    action = graphene.String(required=True, description="What was done, e.g. update_dataset or decide_access.")
    target_ids = graphene.List(graphene.NonNull(graphene.String), required=True)
    change = graphene.JSONString(
        required=True,
        description="What changed, field by field. Personal values appear only as sha256 digests.",
    )
    change_digest = graphene.String(required=True, description="SHA-256 of the change's canonical JSON.")
    decision_id = graphene.ID(description="The decision this event records, for decide_* actions.")
    prev_hash = graphene.String(required=True, description="The previous event's hash (64 zeros for the first).")
    hash = graphene.String(required=True, description="SHA-256 over this event's content and prev_hash.")


AuditEventConnection = connection_type(AuditEvent, "AuditEvent")


class HistoryFieldChange(graphene.ObjectType):
    class Meta:
        description = "One property of a dataset as an event changed it."

    field = graphene.String(required=True, description="The property, spelled as the API spells it.")
    before = graphene.JSONString(description="Its value before (null when it had none).")
    after = graphene.JSONString(description="Its value after (null when it was removed).")

    @staticmethod
    def resolve_field(change: FieldChange, info: graphene.ResolveInfo) -> str:
        return camel(change.field)


class DatasetHistoryEntry(graphene.ObjectType):
    class Meta:
        description = (
            "One change to a dataset's metadata: its registration, an update, a steward named or removed, or a "
            "correction."
        )

    version = graphene.Int(required=True, description="The dataset's version once this change was applied.")
    at = graphene.DateTime(required=True)
    by = graphene.String(description="Who made the change; null for anonymous viewers.")
    action = graphene.String(
        required=True,
        description="register_dataset, update_dataset, issue_correction, assign_steward or unassign_steward.",
    )
    change = graphene.List(graphene.NonNull(HistoryFieldChange), required=True)
    reason = graphene.String(description="Why: required for classification, legal basis or purpose changes.")
    severity = graphene.String(description="For a correction: MINOR, MAJOR or CRITICAL.")
    sequence = graphene.Int(required=True, description="The audit event that records this change.")

    @staticmethod
    def resolve_change(entry: HistoryEntry, info: graphene.ResolveInfo) -> list[FieldChange]:
        return entry.changes


class PersonHistoryEntry(graphene.ObjectType):
    class Meta:
        description = "One change to a person's standing: registration, roles, training, deactivation."

    at = graphene.DateTime(required=True)
    by = graphene.String(required=True, description="Who made the change.")
    action = graphene.String(
        required=True,
        description="register_person, set_roles, record_training, deactivate_person or reactivate_person.",
    )
    change = graphene.List(graphene.NonNull(HistoryFieldChange), required=True)
    reason = graphene.String(description="Why, when the change was given a reason.")
    sequence = graphene.Int(required=True, description="The audit event that records this change.")

    @staticmethod
    def resolve_change(entry: HistoryEntry, info: graphene.ResolveInfo) -> list[FieldChange]:
        return entry.changes
