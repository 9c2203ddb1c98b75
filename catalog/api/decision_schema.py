"""Root fields for policy decisions: check, explain, read decisions, and the policy in force."""

from __future__ import annotations

from typing import Any

import graphene

from catalog import domain
from catalog.api import decision_types, inputs
from catalog.api.context import call, request_context
from catalog.api.operations import ServiceMutation, by_id, filtered_list
from catalog.services import DecisionFilter


class DecisionQuery(graphene.ObjectType):
    decision = by_id(decision_types.Decision, "access.get")
    decisions = filtered_list(
        decision_types.DecisionConnection,
        inputs.DecisionFilterInput,
        DecisionFilter,
        "access.list",
        "Recorded decisions, oldest first. Auditors see all; others their own and those about their agency's datasets.",
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
    async def resolve_explain_access(root: Any, info: graphene.ResolveInfo, input: Any) -> domain.Decision:
        context = request_context(info)
        return await call(context.services.access.explain, context.principal, inputs.plain(input))

    @staticmethod
    async def resolve_policy(root: Any, info: graphene.ResolveInfo, version: str | None = None) -> Any:
        return await call(request_context(info).services.decisions.policy_at, version)


class CheckAccess(ServiceMutation):
    class Meta:
        description = (
            "Decide a request and record the decision with its reasons (fails closed: never an unrecorded PERMIT)."
        )

    class Arguments:
        input = inputs.AccessInput(required=True)

    Output = graphene.NonNull(decision_types.Decision)
    method = "access.check"


class DecisionMutation(graphene.ObjectType):
    check_access = CheckAccess.Field()
