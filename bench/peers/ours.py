"""Our engine as the peers are measured: a batch through one call, and the outcome alone.

Neither is part of the engine. `permitted` answers from the same loaded policy (its index and compiled
conditions) but builds no explanation and bypasses Casbin: it is what a decision costs when nothing is kept to
say why, which is what Cedar and OPA return when their explanation is off.
"""

from __future__ import annotations

from typing import Any

from catalog.policy.attributes import RequestAttributes
from catalog.policy.engine import Evaluation, LoadedPolicy, PolicyEngine
from catalog.policy.rules import Rule

_NO_BUILTINS: dict[str, Any] = {"__builtins__": {}}


def decide_batch(engine: PolicyEngine, table: list[RequestAttributes]) -> list[Evaluation]:
    """Every request decided with its full explanation, in one call."""
    return [engine.decide(request) for request in table]


def permitted(policy: LoadedPolicy, request: RequestAttributes) -> bool:
    """The outcome alone: some allow rule holds and no deny rule does (the engine's rule, without its log)."""
    keys = policy.index.keys_for(request.env.action, request.obj.id, request.obj.owner, request.sub.agency)
    allowed = False
    for key in keys:
        for rule in policy.index.buckets[key]:
            if _holds(rule, request):
                if rule.effect == "deny":
                    return False
                allowed = True
    return allowed


def permitted_batch(policy: LoadedPolicy, table: list[RequestAttributes]) -> list[bool]:
    return [permitted(policy, request) for request in table]


def _holds(rule: Rule, request: RequestAttributes) -> bool:
    actual = {"dataset": request.obj.id, "owner": request.obj.owner, "agency": request.sub.agency}
    if any(actual[kind] != value for kind, value in rule.scope):
        return False
    local = {"r": request}
    return all(eval(condition.code, _NO_BUILTINS, local) for condition in rule.conditions)
