"""Root fields for policy decisions: check, explain, read decisions, and the policy in force."""

from __future__ import annotations

from typing import Any

import graphene

from catalog import domain
from catalog.api import decision_types, inputs, types
from catalog.api.context import call, request_context
from catalog.services import DecisionFilter


class DecisionQuery(graphene.ObjectType):
    decision = graphene.Field(decision_types.Decision, id=graphene.ID(required=True))
    decisions = graphene.Field(
        decision_types.DecisionConnection,
        required=True,
        filter=inputs.DecisionFilterInput(),
        first=graphene.Int(),
        after=graphene.String(),
        description="Recorded decisions, oldest first. Auditors see all; others their own "
        "and those about their agency's datasets.",
    )
    explain_access = graphene.Field(
        graphene.NonNull(decision_types.Decision),
        input=inputs.AccessInput(required=True),
        description="Decide a hypothetical request without recording anything.",
    )
    policy = graphene.Field(
        graphene.NonNull(decision_types.Policy),
        version=graphene.ID(description="A version decisions name; the one in force when left out."),
        description="The policy in force, or one a decision was made under, as it was then.",
    )

    @staticmethod
    async def resolve_decision(root: Any, info: graphene.ResolveInfo, id: str) -> domain.Decision:
        return await call(request_context(info).services.access.get, request_context(info).principal, id)

    @staticmethod
    async def resolve_decisions(
        root: Any, info: graphene.ResolveInfo, filter: Any = None, first: int | None = None, after: str | None = None
    ) -> dict[str, Any]:
        services = request_context(info).services
        criteria = DecisionFilter(**inputs.plain(filter)) if filter else DecisionFilter()
        return await types.page_of(info, services.access.list, criteria, services.reads.page_size(first), after)

    @staticmethod
    async def resolve_explain_access(root: Any, info: graphene.ResolveInfo, input: Any) -> domain.Decision:
        return await call(
            request_context(info).services.access.explain, request_context(info).principal, inputs.plain(input)
        )

    @staticmethod
    async def resolve_policy(root: Any, info: graphene.ResolveInfo, version: str | None = None) -> Any:
        return await call(request_context(info).services.decisions.policy_at, version)


class CheckAccess(graphene.Mutation):
    class Meta:
        description = (
            "Decide a request and record the decision with its reasons (fails closed: never an unrecorded PERMIT)."
        )

    class Arguments:
        input = inputs.AccessInput(required=True)

    Output = graphene.NonNull(decision_types.Decision)

    @staticmethod
    async def mutate(root: Any, info: graphene.ResolveInfo, input: Any) -> domain.Decision:
        return await call(
            request_context(info).services.access.check, request_context(info).principal, inputs.plain(input)
        )


class DecisionMutation(graphene.ObjectType):
    check_access = CheckAccess.Field()
