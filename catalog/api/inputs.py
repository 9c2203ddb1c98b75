"""GraphQL input types, and their conversion to the plain dicts the services validate."""

from __future__ import annotations

from enum import Enum
from typing import Any

import graphene
from graphene.types.inputobjecttype import set_input_object_type_default_value
from graphql import Undefined

from catalog.api import decision_types, types

# Tell "not given" (Undefined) apart from an explicit null, so updates only touch the fields they name.
set_input_object_type_default_value(Undefined)


def plain(value: Any) -> Any:
    """A graphene input value as plain Python: dicts, lists, enum values; unset fields dropped."""
    if isinstance(value, graphene.InputObjectType | dict):
        return {k: plain(v) for k, v in dict(value).items() if v is not Undefined}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


class TrainingInput(graphene.InputObjectType):
    completed_at = graphene.DateTime(required=True)
    expires_at = graphene.DateTime(required=True)


class LegalBasisInput(graphene.InputObjectType):
    article6 = graphene.InputField(types.LawfulBasis, required=True)
    statute = graphene.String()
    covers_identified = graphene.Boolean()


class FieldInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    type = graphene.String()
    description = graphene.String()
    pii = graphene.InputField(types.PiiTag)


class LicenceInput(graphene.InputObjectType):
    id = graphene.String()
    title = graphene.String()
    url = graphene.String()


class DistributionInput(graphene.InputObjectType):
    title = graphene.String()
    description = graphene.String()
    access_url = graphene.String(required=True)
    download_url = graphene.String()
    format = graphene.String()
    media_type = graphene.String()


class DatasetExtraInput(graphene.InputObjectType):
    key = graphene.String(required=True)
    value = graphene.String()


class RegisterAgencyInput(graphene.InputObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    kind = graphene.String()
    webhook_url = graphene.String()


class RegisterPersonInput(graphene.InputObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    email = graphene.String()
    agency_id = graphene.ID(required=True)
    roles = graphene.List(graphene.NonNull(types.Role))
    training = graphene.InputField(TrainingInput)


class DatasetDescription:
    """Fields a data owner may set on a dataset, shared by register and update inputs."""

    title = graphene.String()
    description = graphene.String()
    classification = graphene.String(description="A level of the configured classification scheme.")
    personal_data = graphene.InputField(types.PersonalData)
    identifiability = graphene.InputField(types.Identifiability)
    legal_basis = graphene.InputField(LegalBasisInput)
    permitted_purposes = graphene.List(graphene.NonNull(graphene.String))
    retention_days = graphene.Int()
    collection_method = graphene.String()
    consent_notes = graphene.String()
    known_limitations = graphene.String()
    quality_status = graphene.String()
    tags = graphene.List(graphene.NonNull(graphene.String))
    status = graphene.InputField(types.DatasetStatus)
    fields = graphene.List(graphene.NonNull(FieldInput))
    source_url = graphene.String()
    harvest_source = graphene.String()
    source_modified = graphene.DateTime()
    licence = graphene.InputField(LicenceInput)
    distributions = graphene.List(graphene.NonNull(DistributionInput))
    extras = graphene.List(graphene.NonNull(DatasetExtraInput))


class RegisterDatasetInput(DatasetDescription, graphene.InputObjectType):
    id = graphene.ID(description="Leave out to have one generated.")
    title = graphene.String(required=True)
    owner_agency_id = graphene.ID(required=True)


class UpdateDatasetInput(DatasetDescription, graphene.InputObjectType):
    pass


class RecordLineageInput(graphene.InputObjectType):
    id = graphene.ID(required=True, description="The process (job) id. Re-recording the same run is a no-op.")
    name = graphene.String(required=True)
    kind = graphene.InputField(types.ProcessKind)
    run_id = graphene.String()
    inputs = graphene.List(graphene.NonNull(graphene.ID), required=True)
    outputs = graphene.List(graphene.NonNull(graphene.ID), required=True)


class DatasetFilterInput(graphene.InputObjectType):
    agency_id = graphene.ID()
    classification = graphene.String()
    tag = graphene.String()
    status = graphene.InputField(types.DatasetStatus)
    text = graphene.String(description="Free text over title, description and tags (words ANDed, prefix match).")


class AccessInput(graphene.InputObjectType):
    dataset_id = graphene.ID(required=True)
    action = graphene.String(description="access (default) or read_metadata.")
    purpose = graphene.String(description="One of the configured purposes.")
    access_method = graphene.InputField(types.AccessMethod)
    fields = graphene.List(graphene.NonNull(graphene.String), description="Requested fields; empty means all.")


class DecisionFilterInput(graphene.InputObjectType):
    action = graphene.String(description="What was decided, e.g. access, request_share, grant_role.")
    requester = graphene.ID()
    dataset = graphene.ID()
    agency = graphene.ID(description="The requester's agency.")
    outcome = graphene.InputField(decision_types.Outcome)
    rule_id = graphene.String(description="Decided by this rule (one of its determining rules).")
    evaluated_rule_id = graphene.String(description="This rule was evaluated, whatever it concluded.")
    at_from = graphene.DateTime(name="from")
    at_to = graphene.DateTime(name="to")
