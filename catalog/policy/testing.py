"""Policy unit tests, in the spirit of `opa test`: given attributes, expect an outcome, rules and failures.

A file in `policies/tests/*.yaml` has optional `defaults` (attributes shared by its cases) and `cases`, each
with a `name`, the `request` attributes (merged over the defaults) and what to `expect`: `outcome`, and
optionally `deny_kind`, `rules` (the determining rule ids) and `failed` (`rule/condition` entries that must
all have failed) or `safes` (safe name -> PASS, FAIL or NOT_APPLICABLE).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from catalog.policy.attributes import (
    AgreementView,
    Environment,
    PendingRequest,
    PersonView,
    RequestAttributes,
    Resource,
    Subject,
)
from catalog.policy.engine import Evaluation, PolicyEngine
from catalog.policy.rules import PolicyError


@dataclass
class CaseResult:
    file: str
    name: str
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = (
            _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def _build(cls: type[Any], values: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise PolicyError(f"{where}: unknown attribute(s) {', '.join(unknown)} for {cls.__name__}")
    return cls(**values)


def attributes_from(request: dict[str, Any], where: str) -> RequestAttributes:
    sub = _build(Subject, request.get("sub", {}), f"{where} sub")
    obj = _build(Resource, {"id": "dataset", **request.get("obj", {})}, f"{where} obj")
    env_values = dict(request.get("env", {}))
    agreement = _build(AgreementView, env_values.pop("agreement", {}), f"{where} env.agreement")
    person = _build(PersonView, env_values.pop("person", {}), f"{where} env.person")
    pending = _build(PendingRequest, env_values.pop("pending_request", {}), f"{where} env.pending_request")
    nested = {"agreement": agreement, "person": person, "pending_request": pending}
    env = _build(Environment, {"action": "access", **env_values, **nested}, f"{where} env")
    return RequestAttributes(sub, obj, env)


def _check(evaluation: Evaluation, expect: dict[str, Any]) -> list[str]:
    problems = []
    if evaluation.outcome.value != expect.get("outcome"):
        problems.append(f"outcome {evaluation.outcome.value}, expected {expect.get('outcome')}: {evaluation.reason}")
    if "deny_kind" in expect and (evaluation.deny_kind.value if evaluation.deny_kind else None) != expect["deny_kind"]:
        problems.append(f"deny kind {evaluation.deny_kind}, expected {expect['deny_kind']}")
    if "rules" in expect and sorted(evaluation.determining_rules) != sorted(expect["rules"]):
        problems.append(f"determining rules {evaluation.determining_rules}, expected {expect['rules']}")
    failed = {f"{e.rule_id}/{c.name}" for e in evaluation.evaluations for c in e.conditions if not c.passed}
    missing = [f for f in expect.get("failed", []) if f not in failed]
    if missing:
        problems.append(f"expected failed condition(s) {missing}; failed were {sorted(failed)}")
    safes = {s.safe.removeprefix("safe "): s.status.value for s in evaluation.safes}
    for safe, status in (expect.get("safes") or {}).items():
        if safes.get(safe) != status:
            problems.append(f"safe {safe} was {safes.get(safe)}, expected {status}")
    if not evaluation.reason.strip():
        problems.append("the reason is empty")
    return problems


@dataclass
class PolicyCase:
    """One case of a policy test file: its attributes (defaults merged in) and what it expects."""

    file: str
    name: str
    attributes: RequestAttributes
    expect: dict[str, Any]


def load_cases(path: Path) -> list[PolicyCase]:
    """The cases of one policy test file. Raises PolicyError for a malformed file."""
    document = yaml.safe_load(path.read_text()) or {}
    if not isinstance(document.get("cases"), list):
        raise PolicyError(f"{path.name}: expected a 'cases' list")
    defaults = document.get("defaults") or {}
    cases = []
    for i, case in enumerate(document["cases"]):
        name = str(case.get("name") or f"case {i + 1}")
        where = f"{path.name} case {name!r}"
        if "expect" not in case or "outcome" not in case["expect"]:
            raise PolicyError(f"{where}: needs expect.outcome")
        attributes = attributes_from(_merge(defaults, case.get("request") or {}), where)
        cases.append(PolicyCase(path.name, name, attributes, case["expect"]))
    return cases


def run_policy_tests(engine: PolicyEngine, test_dir: Path) -> list[CaseResult]:
    """Run every case in `test_dir/*.yaml` against `engine`. Raises PolicyError for a malformed test file."""
    return [
        CaseResult(case.file, case.name, _check(engine.decide(case.attributes), case.expect))
        for path in sorted(test_dir.glob("*.yaml"))
        for case in load_cases(path)
    ]
