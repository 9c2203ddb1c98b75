"""Root fields for the catalog itself: agencies, people and datasets (lineage is in lineage_schema)."""

from __future__ import annotations

from typing import Any

import graphene

from catalog import domain
from catalog.api import cursors, inputs, types
from catalog.api.context import call, request_context
from catalog.api.operations import ServiceMutation, filtered_list, service_mutation
from catalog.services import DatasetFilter


class CatalogQuery(graphene.ObjectType):
    me = graphene.Field(types.Person, description="The signed-in person; null for anonymous callers.")
    agency = graphene.Field(types.Agency, id=graphene.ID(required=True))
    agencies = graphene.Field(types.AgencyConnection, required=True, first=graphene.Int(), after=graphene.String())
    person = graphene.Field(types.Person, id=graphene.ID(required=True))
    dataset = graphene.Field(
        types.Dataset,
        id=graphene.ID(required=True),
        description="A dataset by id. NOT_FOUND when it does not exist or is not visible to you.",
    )
    datasets = filtered_list(types.DatasetConnection, inputs.DatasetFilterInput, DatasetFilter, "reads.datasets")

    @staticmethod
    async def resolve_me(root: Any, info: graphene.ResolveInfo) -> domain.Person | None:
        context = request_context(info)
        if context.principal.anonymous:
            return None
        person: domain.Person | None = await context.loader("person").load(context.principal.id)
        return person

    @staticmethod
    async def resolve_agency(root: Any, info: graphene.ResolveInfo, id: str) -> domain.Agency:
        context = request_context(info)
        return await context.lookup(context.services.reads.agency, id)

    @staticmethod
    async def resolve_agencies(
        root: Any, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        agencies = request_context(info).services.reads.agencies
        listing = await call(agencies, first, cursors.decode(after), with_total=types.asks_total(info))
        return types.as_connection(listing)

    @staticmethod
    async def resolve_person(root: Any, info: graphene.ResolveInfo, id: str) -> domain.Person:
        context = request_context(info)
        return await context.lookup(context.services.reads.person, context.principal, id)

    @staticmethod
    async def resolve_dataset(root: Any, info: graphene.ResolveInfo, id: str) -> domain.Dataset:
        context = request_context(info)
        return await context.lookup(context.services.reads.dataset, context.principal, id)


class _AnswersWithDataset(ServiceMutation):
    """A mutation whose service call returns nothing: it answers with the dataset `dataset_id` as the change left it."""

    class Meta:
        abstract = True

    @classmethod
    async def mutate(cls, root: Any, info: graphene.ResolveInfo, **arguments: Any) -> domain.Dataset:
        await super().mutate(root, info, **arguments)
        context = request_context(info)
        return await call(context.services.reads.dataset, context.principal, arguments["dataset_id"])


# Naming or removing a dataset's steward: decided by policy and recorded; the change is in its history.
_Stewardship = _AnswersWithDataset.family(
    types.Dataset, dataset_id=graphene.ID(required=True), person_id=graphene.ID(required=True)
)


# Deactivating or reactivating a person: decided by policy and recorded, with the reason, in their history.
_PersonStatus = ServiceMutation.family(
    types.Person, person_id=graphene.ID(required=True), reason=graphene.String(required=True)
)


class CatalogMutation(graphene.ObjectType):
    register_agency = service_mutation(
        "registration.register_agency", types.Agency, input=inputs.RegisterAgencyInput(required=True)
    )
    register_person = service_mutation(
        "registration.register_person", types.Person, input=inputs.RegisterPersonInput(required=True)
    )
    record_training = service_mutation(
        "registration.record_training",
        types.Person,
        person_id=graphene.ID(required=True),
        training=inputs.TrainingInput(required=True),
    )
    register_dataset = service_mutation(
        "registration.register_dataset", types.Dataset, input=inputs.RegisterDatasetInput(required=True)
    )
    update_dataset = service_mutation(
        "registration.update_dataset",
        types.Dataset,
        id=graphene.ID(required=True),
        input=inputs.UpdateDatasetInput(required=True),
        reason=graphene.String(description="Required when classification, legal basis or purposes change."),
    )
    assign_steward = _Stewardship.field(
        "registration.assign_steward",
        "Name a steward of a dataset: an active member of the owning agency with the STEWARD or DATA_OWNER role.",
    )
    unassign_steward = _Stewardship.field("registration.unassign_steward", "Remove a steward from a dataset.")
    set_roles = service_mutation(
        "people.set_roles",
        types.Person,
        "Give a person exactly these roles. Each role granted or withdrawn is decided by the policy (grant_role) "
        "and recorded; only a platform administrator grants PLATFORM_ADMIN or AUDITOR.",
        person_id=graphene.ID(required=True),
        roles=graphene.List(graphene.NonNull(types.Role), required=True),
        reason=graphene.String(description="Why the roles change; kept in the person's history."),
    )
    deactivate_person = _PersonStatus.field(
        "people.deactivate",
        "Deactivate a person: their tokens are refused from then on. Their record and history stay.",
    )
    reactivate_person = _PersonStatus.field(
        "people.reactivate", "Let a deactivated person sign in again, with the roles they had."
    )
