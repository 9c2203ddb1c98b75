"""Property: a remedy is true. For a request no rule permits (an implicit deny), making any one remedy's
conditions hold (setting the attributes they read to values that satisfy them) makes the engine permit. (An
explicit deny's remedy is not a way through: it says what the deny rule forbids and who can change that; nor is a
remedy with no conditions, which says who else could act.)

Once on generated attributes against the engine, and once on both backends with requests the demo's people make
against the stored landscape, read back from their decisions' attribute snapshots.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.config import load_settings
from catalog.demo import load_demo
from catalog.domain import DEFAULT_CLASSIFICATIONS, DEFAULT_PURPOSES, AccessMethod, DenyKind, Outcome, Remedy
from catalog.errors import NotFound
from catalog.policy.attributes import RequestAttributes
from catalog.policy.engine import PolicyEngine
from catalog.policy.expressions import Condition, resolve
from catalog.policy.partial import changeable, partially
from catalog.policy.testing import attributes_from
from catalog.services import Services
from catalog.store.base import GraphStore

ENGINE = PolicyEngine(load_settings().policy_dir)
METHODS = [m.value for m in AccessMethod]
MAX_TRIES = 1500  # assignments tried per remedy, at most


def candidates(path: str, request: RequestAttributes) -> list[Any]:
    """Values worth trying for an attribute: every value its kind can take, or the ones the request makes likely."""
    current = resolve(request, path)
    if isinstance(current, bool):
        return [True, False]
    leaf = path.rsplit(".", 1)[1]
    sub, obj, env = request.sub, request.obj, request.env
    options: dict[str, list[Any]] = {
        "purpose": [*DEFAULT_PURPOSES, ""],
        "access_method": METHODS,
        "status": ["ACTIVE", "SUSPENDED", "REVOKED", "EXPIRED", "WITHDRAWN", "NONE"],
        "recipient": [sub.agency, obj.owner, env.recipient, "elsewhere"],
        "agency": [sub.agency, obj.owner, env.recipient, env.agreement.recipient],
        "id": [sub.id, *obj.stewards, env.recorded_by, "someone-else"],
        "roles": [["ANALYST"], ["DATA_OWNER"], ["STEWARD"], ["APPROVER"], ["PLATFORM_ADMIN"]],
        "max_classification_rank": [0, 1, 2, 3],
        "max_personal_data_rank": [0, 1, 2],
        "classification_rank": [0, 1, 2, 3],
        "personal_data_rank": [0, 1, 2],
        "classification": list(DEFAULT_CLASSIFICATIONS),
        "personal_data": ["NONE", "PERSONAL", "SPECIAL_CATEGORY"],
        "permitted_purposes": [list(DEFAULT_PURPOSES)],
        "stewards": [[sub.id], ["someone-else"]],
        "fields": [[], ["a-field"]],
        "approved_fields": [[], list(env.fields)],
        "fields_outside_approved": [[]],
        "training_expires": ["", "2099-01-01T00:00:00.000000Z"],
        "role": ["ANALYST", "STEWARD", "AUDITOR"],
    }
    unique = {repr(v): v for v in [current, *options.get(leaf, [])]}  # the current value first, no repeats
    return list(unique.values())


def assign(request: RequestAttributes, path: str, value: Any) -> None:
    parts = path.split(".")[1:]
    target: Any = request
    for part in parts[:-1]:
        target = getattr(target, part)
    setattr(target, parts[-1], value)


def read_by(remedy: Remedy) -> list[str]:
    """What a person could change among the attributes the remedy's conditions read: only these are varied."""
    paths = []
    for name in remedy.conditions:
        rule_id, _, condition = name.partition("/")
        rule = ENGINE.policy.by_id[rule_id]
        paths += [p for c in rule.conditions if c.name == condition for p in c.attributes if changeable(p)]
    return sorted(set(paths))


def assignments(request: RequestAttributes, paths: list[str]) -> Iterator[RequestAttributes]:
    """Every combination of candidate values when there are few; else a seeded sample of them."""
    domains = [candidates(path, request) for path in paths]
    size = math.prod(len(d) for d in domains)
    pick = random.Random(7)
    combos = (
        itertools.product(*domains)
        if size <= MAX_TRIES
        else ([pick.choice(d) for d in domains] for _ in range(MAX_TRIES))
    )
    for values in combos:
        changed = copy.deepcopy(request)
        for path, value in zip(paths, values, strict=True):
            assign(changed, path, value)
        yield changed


def conditions_of(remedy: Remedy) -> list[Condition]:
    named = [name.partition("/") for name in remedy.conditions]
    return [c for rule_id, _, name in named for c in ENGINE.policy.by_id[rule_id].conditions if c.name == name]


def condition_by_condition(request: RequestAttributes, remedy: Remedy) -> RequestAttributes:
    """Make the remedy's conditions hold one at a time, keeping those already made to hold. When a condition
    cannot be met by what it reads alone (an enclave is wanted, but a held condition ties the access method to
    the agreement's), what it reads is varied together with what the held conditions it shares an attribute
    with read."""
    changed, held = copy.deepcopy(request), []
    for condition in conditions_of(remedy):
        own = [p for p in condition.attributes if changeable(p)]
        tied = [c for c in held if set(c.attributes) & set(own)]
        widened = sorted({*own, *(p for c in tied for p in c.attributes if changeable(p))})
        for paths in (own, widened):
            found = meeting(changed, paths, [*held, condition])
            if found is not None:
                changed = found
                break
        held.append(condition)
    return changed


def meeting(request: RequestAttributes, paths: list[str], conditions: list[Condition]) -> RequestAttributes | None:
    """The first candidate values of `paths` under which every one of `conditions` holds, if any."""
    for values in itertools.product(*(candidates(p, request) for p in paths)):
        trial = copy.deepcopy(request)
        for path, value in zip(paths, values, strict=True):
            assign(trial, path, value)
        if all(c.evaluate(trial)[0] for c in conditions):
            return trial
    return None


def remedy_holds(request: RequestAttributes, remedy: Remedy) -> bool:
    """Whether some values of what the remedy's conditions read make the engine permit: found condition by
    condition, else among every combination (or a sample of them)."""
    if ENGINE.decide(condition_by_condition(request, remedy)).outcome == Outcome.PERMIT:
        return True
    paths = read_by(remedy)
    return any(ENGINE.decide(changed).outcome == Outcome.PERMIT for changed in assignments(request, paths))


requests = st.fixed_dictionaries(
    {
        "sub": st.fixed_dictionaries(
            {
                "id": st.sampled_from(["uma", "hamid"]),
                "agency": st.sampled_from(["uni", "health"]),
                "roles": st.lists(st.sampled_from(["ANALYST", "STEWARD", "DATA_OWNER", "APPROVER"]), max_size=2),
                "training_current": st.booleans(),
                "training_expires": st.sampled_from(["", "2025-11-01T00:00:00.000000Z"]),
            }
        ),
        "obj": st.fixed_dictionaries(
            {
                "id": st.just("health.extract"),
                "owner": st.just("health"),
                "classification": st.sampled_from(list(DEFAULT_CLASSIFICATIONS)),
                "classification_rank": st.integers(0, 3),
                "personal_data": st.sampled_from(["NONE", "PERSONAL", "SPECIAL_CATEGORY"]),
                "personal_data_rank": st.integers(0, 2),
                "identified": st.booleans(),
                "permitted_purposes": st.lists(st.sampled_from(list(DEFAULT_PURPOSES)), max_size=2),
                "has_legal_basis": st.booleans(),
                "legal_basis_covers_identified": st.booleans(),
                "stewards": st.lists(st.sampled_from(["hamid", "tom"]), max_size=1),
                "status": st.sampled_from(["ACTIVE", "WITHDRAWN"]),
            }
        ),
        "env": st.fixed_dictionaries(
            {
                "action": st.sampled_from(["access", "request_share"]),
                "purpose": st.sampled_from(list(DEFAULT_PURPOSES)),
                "access_method": st.sampled_from(METHODS),
                "recipient": st.sampled_from(["uni", "health"]),
                "fields": st.lists(st.sampled_from(["age", "region"]), max_size=2, unique=True),
                "agreement": st.fixed_dictionaries(
                    {
                        "id": st.sampled_from(["", "agr-1"]),
                        "status": st.sampled_from(["ACTIVE", "SUSPENDED", "REVOKED", "EXPIRED"]),
                        "active": st.booleans(),
                        "recipient": st.sampled_from(["uni", "health"]),
                        "purpose": st.sampled_from(list(DEFAULT_PURPOSES)),
                        "covers_purpose": st.booleans(),
                        "access_method": st.sampled_from(METHODS),
                        "max_classification_rank": st.integers(0, 3),
                        "max_personal_data_rank": st.integers(0, 2),
                        "allows_identified": st.booleans(),
                        "approved_fields": st.lists(st.sampled_from(["age", "region"]), max_size=2, unique=True),
                    }
                ),
            }
        ),
    }
)


@settings(max_examples=60, deadline=None)
@given(raw=requests)
def test_any_one_remedy_of_a_refusal_made_true_permits(raw: dict[str, Any]) -> None:
    request = attributes_from(raw, "generated")
    evaluation = ENGINE.decide(request)
    if evaluation.deny_kind != DenyKind.IMPLICIT:
        return
    for remedy in evaluation.remedies:
        assert not remedy.conditions or remedy_holds(request, remedy), (evaluation.reason, remedy)


@settings(max_examples=80, deadline=None)
@given(raw=requests, action=st.sampled_from(["access", "request_share", "read_metadata"]), anonymous=st.booleans())
def test_permits_is_the_outcome_that_decide_gives(raw: dict[str, Any], action: str, anonymous: bool) -> None:
    """The per-item check (`permits`, whether a dataset may be seen) skips the explanation, never the decision."""
    raw = {**raw, "sub": {**raw["sub"], "anonymous": anonymous}, "env": {**raw["env"], "action": action}}
    request = attributes_from(raw, "generated")

    assert ENGINE.permits(request) == (ENGINE.decide(request).outcome == Outcome.PERMIT)


@settings(max_examples=60, deadline=None)
@given(raw=requests, action=st.sampled_from(["access", "request_share", "read_metadata"]))
def test_partial_evaluation_is_the_conditions_own_truth_wherever_it_decides(raw: dict[str, Any], action: str) -> None:
    """With nothing unknown, `partially` is every condition's own truth; with what a person can change unknown, a
    True or False it gives is the truth for the request as it stands (one of the values the unknowns may take)."""
    request = attributes_from({**raw, "env": {**raw["env"], "action": action}}, "generated")
    decided = 0
    for rule in ENGINE.policy.rules:
        for condition in rule.conditions:
            truth = condition.holds(request)
            assert partially(condition, request, ()) is truth, (rule.id, condition.name)
            assert partially(condition, request) in (None, truth), (rule.id, condition.name)
            decided += partially(condition, request) is not None
    assert decided  # some conditions read nothing a person can change


@settings(max_examples=40, deadline=None)
@given(raw=requests)
def test_the_snapshot_kept_with_a_decision_is_every_attribute_as_plain_data(raw: dict[str, Any]) -> None:
    """The snapshot is what `dataclasses.asdict` gives (nested views included), and shares no list with the request:
    a later change to the request does not rewrite what was recorded."""
    request = attributes_from(raw, "generated")
    snapshot = request.snapshot()

    assert snapshot == {"sub": asdict(request.sub), "obj": asdict(request.obj), "env": asdict(request.env)}
    request.env.fields.append("changed")
    request.env.agreement.approved_fields.append("changed")
    assert "changed" not in snapshot["env"]["fields"] + snapshot["env"]["agreement"]["approved_fields"]


@pytest.fixture
def demo_landscape(store: GraphStore) -> Services:
    services = Services(store, load_settings(policy_reload_interval_s=0))
    load_demo(services)
    return services


PEOPLE = ["uma.uni", "rui.uni", "dan.city", "ben.stats", "nora.social", "tom.social"]
DATASETS = ["health.admissions-deid", "social.housing-cases", "city.service-requests", "stats.population-estimates"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    who=st.sampled_from(PEOPLE),
    dataset=st.sampled_from(DATASETS),
    purpose=st.sampled_from(list(DEFAULT_PURPOSES)),
    method=st.sampled_from(METHODS),
)
def test_remedies_of_the_stored_landscapes_refusals_hold(
    demo_landscape: Services, who: str, dataset: str, purpose: str, method: str
) -> None:
    asked = {"dataset_id": dataset, "purpose": purpose, "access_method": method}
    try:
        decision = demo_landscape.access.explain(demo_landscape.people.principal(who), asked)
    except NotFound:
        return  # hidden from them: nothing to remedy, nothing said
    if decision.deny_kind != DenyKind.IMPLICIT or "obj" not in decision.attributes:
        return  # a permit, an explicit deny, or a former recipient's decision (it keeps no dataset attributes)
    request = attributes_from(decision.attributes, decision.id)
    assert ENGINE.decide(request).outcome == Outcome.DENY  # the snapshot replays the decision
    for remedy in decision.remedies:
        assert not remedy.conditions or remedy_holds(request, remedy), (decision.reason, remedy)
