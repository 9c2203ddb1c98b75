"""GraphQL types for policy decisions and the policy itself."""

from __future__ import annotations

from typing import Any

import graphene

from catalog import domain
from catalog.api.context import call, request_context
from catalog.api.types import AccessMethod, Dataset, Person, Role, connection_type, related
from catalog.policy.engine import ENGINE_VERSION, LoadedPolicy

Outcome = graphene.Enum.from_enum(domain.Outcome)
Safe = graphene.Enum.from_enum(domain.Safe)
DenyKind = graphene.Enum.from_enum(domain.DenyKind)
SafeStatus = graphene.Enum.from_enum(domain.SafeStatus)


class AccessRequestInfo(graphene.ObjectType):
    class Meta:
        description = "What was asked: an action on a dataset, or an administrative action about a person or agency."

    action = graphene.String(required=True)
    dataset_id = graphene.ID(description="The dataset acted on; null for an action about a person or an agency.")
    person_id = graphene.ID(description="The person an administrative action is about (roles, steward, status).")
    agency_id = graphene.ID(description="The agency an administrative action is about.")
    role = graphene.Field(Role, description="The role granted or withdrawn (grant_role).")
    purpose = graphene.String()
    access_method = graphene.Field(AccessMethod)
    fields = graphene.List(graphene.NonNull(graphene.String), required=True)


class ConditionResult(graphene.ObjectType):
    name = graphene.String(required=True)
    passed = graphene.Boolean(required=True)
    expected = graphene.String(required=True, description="The condition as written in the policy.")
    seen = graphene.JSONString(required=True, description="The attribute values the condition read.")


class RuleEvaluation(graphene.ObjectType):
    rule_id = graphene.String(required=True)
    effect = graphene.String(required=True)
    matched = graphene.Boolean(required=True)
    conditions = graphene.List(graphene.NonNull(ConditionResult), required=True)


class SafeResult(graphene.ObjectType):
    safe = graphene.String(required=True)
    status = graphene.Field(SafeStatus, required=True)
    evidence = graphene.List(graphene.NonNull(graphene.String), required=True)


class Remedy(graphene.ObjectType):
    class Meta:
        description = "What would have to change for a refused request to be permitted, as something to do."

    safe = graphene.Field(Safe, description="The safe it puts right, when its conditions are all of one safe.")
    conditions = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="rule/condition that would then hold; none when it says who else could act instead.",
    )
    text = graphene.String(required=True)


class Decision(graphene.ObjectType):
    class Meta:
        description = "A recorded policy decision with everything needed to say why."

    id = graphene.ID(required=True)
    at = graphene.DateTime(required=True)
    principal_id = graphene.String(required=True)
    requester = graphene.Field(Person)
    dataset = graphene.Field(Dataset, description="Null when the dataset is not visible to you.")
    request = graphene.Field(AccessRequestInfo, required=True)
    outcome = graphene.Field(Outcome, required=True)
    deny_kind = graphene.Field(DenyKind)
    determining_rules = graphene.List(graphene.NonNull(graphene.String), required=True)
    failed_conditions = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="For a DENY, rule/condition for every failed condition of every candidate rule; for a PERMIT, "
        "none (conditions that failed in rules that did not decide it are in evaluations).",
    )
    evaluations = graphene.List(graphene.NonNull(RuleEvaluation), required=True)
    safes = graphene.List(graphene.NonNull(SafeResult), required=True)
    obligations = graphene.List(graphene.NonNull(graphene.String), required=True)
    reason = graphene.String(required=True, description="Why, in plain words.")
    remedies = graphene.List(
        graphene.NonNull(Remedy),
        required=True,
        description="For a DENY, what would have to change for it to be permitted (any one of them).",
    )
    policy_version = graphene.String(required=True)
    policy = graphene.Field(lambda: Policy, description="The policy this was decided under, as it was then.")
    engine_version = graphene.String(required=True)
    attributes = graphene.JSONString(required=True, description="Snapshot of the attributes evaluated.")
    agreement_id = graphene.ID()
    agreement_status_then = graphene.String(
        description="The agreement's status when this was decided (compare agreement { status } for now)."
    )

    resolve_requester = related("person", "principal_id")
    resolve_dataset = related("dataset", "request.dataset_id")

    @staticmethod
    def resolve_failed_conditions(decision: domain.Decision, info: graphene.ResolveInfo) -> list[str]:
        if decision.outcome == domain.Outcome.PERMIT:
            return []
        return [f"{e.rule_id}/{c.name}" for e in decision.evaluations for c in e.conditions if not c.passed]

    @staticmethod
    def resolve_agreement_status_then(decision: domain.Decision, info: graphene.ResolveInfo) -> str | None:
        status = decision.attributes.get("env", {}).get("agreement", {}).get("status")
        return None if status in (None, "NONE") or not decision.agreement_id else str(status)

    @staticmethod
    async def resolve_policy(decision: domain.Decision, info: graphene.ResolveInfo) -> LoadedPolicy:
        return await call(request_context(info).services.decisions.policy_at, decision.policy_version)


DecisionConnection = connection_type(Decision, "Decision")


class PolicyRule(graphene.ObjectType):
    id = graphene.String(required=True)
    description = graphene.String(required=True)
    effect = graphene.String(required=True)
    actions = graphene.List(graphene.NonNull(graphene.String), required=True)
    conditions = graphene.List(graphene.NonNull(graphene.String), required=True)
    obligations = graphene.List(graphene.NonNull(graphene.String), required=True)
    source = graphene.String(required=True, description="File and line the rule is written at.")


class Policy(graphene.ObjectType):
    version = graphene.String(required=True, description="A hash of the model and every rule file.")
    engine_version = graphene.String(required=True)
    rules = graphene.List(graphene.NonNull(PolicyRule), required=True)

    @staticmethod
    def resolve_engine_version(policy: LoadedPolicy, info: graphene.ResolveInfo) -> str:
        return ENGINE_VERSION

    @staticmethod
    def resolve_rules(policy: LoadedPolicy, info: graphene.ResolveInfo) -> list[dict[str, Any]]:
        return [
            {
                "id": r.id,
                "description": r.description,
                "effect": r.effect,
                "actions": list(r.actions),
                "conditions": [f"{c.name}: {c.source}" for c in r.conditions],
                "obligations": [f"{o.id}: {o.text}" for o in r.obligations],
                "source": f"{r.source}:{r.line}",
            }
            for r in policy.rules
        ]
