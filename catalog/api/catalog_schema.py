"""Root fields for the catalog itself: agencies, people and datasets (lineage is in lineage_schema)."""

from __future__ import annotations

from typing import Any

import graphene

from catalog import domain
from catalog.api import inputs, types
from catalog.api.context import call, request_context
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
    datasets = graphene.Field(
        types.DatasetConnection,
        required=True,
        filter=inputs.DatasetFilterInput(),
        first=graphene.Int(),
        after=graphene.String(),
    )

    @staticmethod
    async def resolve_me(root: Any, info: graphene.ResolveInfo) -> domain.Person | None:
        principal = request_context(info).principal
        if principal.anonymous:
            return None
        person: domain.Person | None = await request_context(info).loader("person").load(principal.id)
        return person

    @staticmethod
    async def resolve_agency(root: Any, info: graphene.ResolveInfo, id: str) -> domain.Agency:
        return await request_context(info).lookup(request_context(info).services.reads.agency, id)

    @staticmethod
    async def resolve_agencies(
        root: Any, info: graphene.ResolveInfo, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        listing = await call(
            request_context(info).services.reads.agencies,
            first,
            types.decode_cursor(after),
            with_total=types.asks_total(info),
        )
        return types.as_connection(listing)

    @staticmethod
    async def resolve_person(root: Any, info: graphene.ResolveInfo, id: str) -> domain.Person:
        return await request_context(info).lookup(
            request_context(info).services.reads.person, request_context(info).principal, id
        )

    @staticmethod
    async def resolve_dataset(root: Any, info: graphene.ResolveInfo, id: str) -> domain.Dataset:
        return await request_context(info).lookup(
            request_context(info).services.reads.dataset, request_context(info).principal, id
        )

    @staticmethod
    async def resolve_datasets(
        root: Any, info: graphene.ResolveInfo, filter: Any = None, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        criteria = DatasetFilter(**inputs.plain(filter)) if filter else DatasetFilter()
        return await types.page_of(info, request_context(info).services.reads.datasets, criteria, first, after)


class RegisterAgency(graphene.Mutation):
    class Arguments:
        input = inputs.RegisterAgencyInput(required=True)

    Output = graphene.NonNull(types.Agency)

    @staticmethod
    async def mutate(root: Any, info: graphene.ResolveInfo, input: Any) -> domain.Agency:
        return await call(
            request_context(info).services.registration.register_agency,
            request_context(info).principal,
            inputs.plain(input),
        )


class RegisterPerson(graphene.Mutation):
    class Arguments:
        input = inputs.RegisterPersonInput(required=True)

    Output = graphene.NonNull(types.Person)

    @staticmethod
    async def mutate(root: Any, info: graphene.ResolveInfo, input: Any) -> domain.Person:
        return await call(
            request_context(info).services.registration.register_person,
            request_context(info).principal,
            inputs.plain(input),
        )


class RecordTraining(graphene.Mutation):
    class Arguments:
        person_id = graphene.ID(required=True)
        training = inputs.TrainingInput(required=True)

    Output = graphene.NonNull(types.Person)

    @staticmethod
    async def mutate(root: Any, info: graphene.ResolveInfo, person_id: str, training: Any) -> domain.Person:
        return await call(
            request_context(info).services.registration.record_training,
            request_context(info).principal,
            person_id,
            inputs.plain(training),
        )


class RegisterDataset(graphene.Mutation):
    class Arguments:
        input = inputs.RegisterDatasetInput(required=True)

    Output = graphene.NonNull(types.Dataset)

    @staticmethod
    async def mutate(root: Any, info: graphene.ResolveInfo, input: Any) -> domain.Dataset:
        return await call(
            request_context(info).services.registration.register_dataset,
            request_context(info).principal,
            inputs.plain(input),
        )


class UpdateDataset(graphene.Mutation):
    class Arguments:
        id = graphene.ID(required=True)
        input = inputs.UpdateDatasetInput(required=True)
        reason = graphene.String(description="Required when classification, legal basis or purposes change.")

    Output = graphene.NonNull(types.Dataset)

    @staticmethod
    async def mutate(
        root: Any, info: graphene.ResolveInfo, id: str, input: Any, reason: str | None = None
    ) -> domain.Dataset:
        return await call(
            request_context(info).services.registration.update_dataset,
            request_context(info).principal,
            id,
            inputs.plain(input),
            reason,
        )


class _Stewardship(graphene.Mutation):
    """Naming or removing a dataset's steward: decided by policy and recorded; the change is in its history."""

    class Meta:
        abstract = True

    class Arguments:
        dataset_id = graphene.ID(required=True)
        person_id = graphene.ID(required=True)

    Output = graphene.NonNull(types.Dataset)
    verb = ""

    @classmethod
    async def mutate(cls, root: Any, info: graphene.ResolveInfo, dataset_id: str, person_id: str) -> domain.Dataset:
        services, principal = request_context(info).services, request_context(info).principal
        await call(getattr(services.registration, cls.verb), principal, dataset_id, person_id)
        return await call(services.reads.dataset, principal, dataset_id)


class AssignSteward(_Stewardship):
    class Meta:
        description = (
            "Name a steward of a dataset: an active member of the owning agency with the STEWARD or DATA_OWNER role."
        )

    verb = "assign_steward"


class UnassignSteward(_Stewardship):
    class Meta:
        description = "Remove a steward from a dataset."

    verb = "unassign_steward"


class SetRoles(graphene.Mutation):
    class Meta:
        description = (
            "Give a person exactly these roles. Each role granted or withdrawn is decided by the policy (grant_role) "
            "and recorded; only a platform administrator grants PLATFORM_ADMIN or AUDITOR."
        )

    class Arguments:
        person_id = graphene.ID(required=True)
        roles = graphene.List(graphene.NonNull(types.Role), required=True)
        reason = graphene.String(description="Why the roles change; kept in the person's history.")

    Output = graphene.NonNull(types.Person)

    @staticmethod
    async def mutate(
        root: Any, info: graphene.ResolveInfo, person_id: str, roles: list[Any], reason: str | None = None
    ) -> domain.Person:
        values = [getattr(role, "value", role) for role in roles]
        return await call(
            request_context(info).services.people.set_roles, request_context(info).principal, person_id, values, reason
        )


class _PersonStatus(graphene.Mutation):
    """Deactivating or reactivating a person: decided by policy and recorded, with the reason, in their history."""

    class Meta:
        abstract = True

    class Arguments:
        person_id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    Output = graphene.NonNull(types.Person)
    verb = ""

    @classmethod
    async def mutate(cls, root: Any, info: graphene.ResolveInfo, person_id: str, reason: str) -> domain.Person:
        change = getattr(request_context(info).services.people, cls.verb)
        result: domain.Person = await call(change, request_context(info).principal, person_id, reason)
        return result


class DeactivatePerson(_PersonStatus):
    class Meta:
        description = "Deactivate a person: their tokens are refused from then on. Their record and history stay."

    verb = "deactivate"


class ReactivatePerson(_PersonStatus):
    class Meta:
        description = "Let a deactivated person sign in again, with the roles they had."

    verb = "reactivate"


class CatalogMutation(graphene.ObjectType):
    register_agency = RegisterAgency.Field()
    register_person = RegisterPerson.Field()
    record_training = RecordTraining.Field()
    register_dataset = RegisterDataset.Field()
    update_dataset = UpdateDataset.Field()
    assign_steward = AssignSteward.Field()
    unassign_steward = UnassignSteward.Field()
    set_roles = SetRoles.Field()
    deactivate_person = DeactivatePerson.Field()
    reactivate_person = ReactivatePerson.Field()
