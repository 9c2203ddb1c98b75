"""The requests every engine decides: each case of policies/tests/access.yaml, then generated ones.

Generated requests start from the file's defaults (a request that all Five Safes permit) and change one to four
attributes the access and deny rules read, drawn from each attribute's domain with a seeded generator. Starting
near a PERMIT keeps both outcomes common: fully random attributes would nearly always be denied.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

from catalog.policy.attributes import RequestAttributes
from catalog.policy.testing import load_cases

REPO = Path(__file__).resolve().parents[2]
ACCESS_CASES = REPO / "policies" / "tests" / "access.yaml"
SEED = 21
TYPICAL_DENY = "safe people fails when training has expired"  # a trained analyst's lapsed, under an active agreement
CLASSIFICATIONS = ["PUBLIC", "OFFICIAL", "OFFICIAL_SENSITIVE", "PROTECTED"]
PERSONAL_DATA = ["NONE", "PERSONAL", "SPECIAL_CATEGORY"]
IDENTIFIABILITY = ["IDENTIFIED", "PSEUDONYMISED", "DEIDENTIFIED", "AGGREGATE", "NOT_APPLICABLE"]
PURPOSES = ["SERVICE_DELIVERY", "POLICY_AND_PROGRAMS", "RESEARCH", "STATISTICS", "LAW_ENFORCEMENT"]
METHODS = ["SECURE_ENCLAVE", "AGGREGATE_QUERY", "API", "DOWNLOAD"]
CHOICES: dict[str, list[Any]] = {
    "sub.agency": ["uni", "health", "city", ""],
    "sub.roles": [["ANALYST"], ["STEWARD"], ["DATA_OWNER"], [], ["ANALYST", "STEWARD"], ["AUDITOR"]],
    "sub.training_current": [True, False],
    "obj.owner": ["health", "uni", "city"],
    "obj.status": ["ACTIVE", "DEPRECATED", "WITHDRAWN"],
    "obj.classification": CLASSIFICATIONS,
    "obj.personal_data": PERSONAL_DATA,
    "obj.identifiability": IDENTIFIABILITY,
    "obj.permitted_purposes": [["RESEARCH", "STATISTICS"], ["LAW_ENFORCEMENT"], ["RESEARCH", "LAW_ENFORCEMENT"], []],
    "obj.has_legal_basis": [True, False],
    "obj.legal_basis_covers_identified": [True, False],
    "env.purpose": [*PURPOSES, ""],
    "env.access_method": METHODS,
    "env.fields_outside_approved": [[], ["nhs_number"], ["diagnosis_group", "postcode"]],
    "env.agreement.status": ["ACTIVE", "SUSPENDED", "REVOKED", "EXPIRED", "NONE"],
    "env.agreement.active": [True, False],
    "env.agreement.recipient": ["uni", "city", ""],
    "env.agreement.purpose": PURPOSES,
    "env.agreement.covers_purpose": [True, False],
    "env.agreement.access_method": METHODS,
    "env.agreement.max_classification_rank": [-1, 0, 1, 2, 3],
    "env.agreement.max_personal_data_rank": [-1, 0, 1, 2],
    "env.agreement.allows_identified": [True, False],
}
# Attributes derived from another one, as the service derives them: rank from name, `identified` from identifiability,
# `fields_within_approved` from the fields outside.
DERIVED = {
    "obj.classification": lambda obj, value: setattr(obj, "classification_rank", CLASSIFICATIONS.index(value)),
    "obj.personal_data": lambda obj, value: setattr(obj, "personal_data_rank", PERSONAL_DATA.index(value)),
    "obj.identifiability": lambda obj, value: setattr(obj, "identified", value in ("IDENTIFIED", "PSEUDONYMISED")),
    "env.fields_outside_approved": lambda env, value: setattr(env, "fields_within_approved", not value),
}


def access_cases() -> list[tuple[str, RequestAttributes]]:
    """Every case of policies/tests/access.yaml, by name."""
    return [(case.name, case.attributes) for case in load_cases(ACCESS_CASES)]


def typical_deny() -> RequestAttributes:
    """The request the single-decision figures repeat for the real policy (as issue 21 measured it)."""
    return dict(access_cases())[TYPICAL_DENY]


def generated(count: int, seed: int = SEED) -> list[RequestAttributes]:
    """`count` requests near the access cases' defaults (the first case), the same for the same seed."""
    rng = random.Random(seed)
    base = access_cases()[0][1]
    requests = []
    for _ in range(count):
        request = copy.deepcopy(base)
        for path in rng.sample(sorted(CHOICES), rng.randint(1, 4)):
            _assign(request, path, copy.copy(rng.choice(CHOICES[path])))
        requests.append(request)
    return requests


def request_table(count: int, seed: int = SEED) -> list[RequestAttributes]:
    """The access cases, then generated requests, `count` in all (at least the cases)."""
    cases = [attributes for _, attributes in access_cases()]
    return cases + generated(max(0, count - len(cases)), seed)


def _assign(request: RequestAttributes, path: str, value: Any) -> None:
    *parents, name = path.split(".")
    target: Any = request
    for part in parents:
        target = getattr(target, part)
    setattr(target, name, value)
    if path in DERIVED:
        DERIVED[path](target, value)
