"""A decision's reason and remedies, in words a person can act on.

The reason of a refusal is built from the `because:` sentences of the conditions that counted against the
request: those that failed in the closest allow rule (an implicit deny), or those that held in a deny rule (an
explicit one). The technical detail (expressions, the values each condition saw) stays in the decision's
evaluations for auditors; the reason has no attribute paths and no Python literals.

Remedies say what would have to change. For an implicit deny they are the smallest sets of failed conditions,
among the allow rules for the action, that the person could make hold: found by evaluating each failed condition
again with the attributes a person can change treated as unknown (`policy.partial`). A condition still false
then cannot be put right by the person, and a rule that has one offers no remedy. A remedy also names the
conditions that hold now but would fail whichever access method or purpose it has the person choose, so that
doing all it says is enough; and a rule whose every such choice a deny rule refuses offers no remedy. An explicit
deny's remedy is the deny rule's own `remedy:`: what it forbids, and who can change that.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from catalog.domain import AccessMethod, ConditionResult, Remedy, RuleEvaluation, Safe
from catalog.policy.attributes import RequestAttributes
from catalog.policy.expressions import Condition, resolve
from catalog.policy.partial import CHANGEABLE, partially
from catalog.policy.rules import SAFES, Rule, first_applying
from catalog.policy.sentences import plain, sentence

# What a request is, as a sentence names it; `{id}` is the object (a dataset, a person, an agency), `{role}` the
# role granted or withdrawn.
PHRASES: dict[str, str] = {
    "access": "access to {id}",
    "read_metadata": "reading the metadata of {id}",
    "request_share": "a share of {id}",
    "approve_share": "approving a share of {id}",
    "reject_share": "rejecting a share of {id}",
    "renew_agreement": "renewing an agreement on {id}",
    "suspend_agreement": "suspending an agreement on {id}",
    "resume_agreement": "resuming an agreement on {id}",
    "revoke_agreement": "revoking an agreement on {id}",
    "register_agency": "registering agency {id}",
    "register_person": "registering {id}",
    "record_training": "recording the training of {id}",
    "grant_role": "granting or withdrawing the role {role} of {id}",
    "deactivate_person": "deactivating {id}",
    "reactivate_person": "reactivating {id}",
    "register_dataset": "registering dataset {id}",
    "update_dataset": "updating {id}",
    "assign_steward": "naming a steward of {id}",
    "unassign_steward": "removing a steward of {id}",
    "record_lineage": "recording the lineage of {id}",
    "attest_process": "attesting the processing into {id}",
    "issue_correction": "correcting {id}",
    "register_agreement": "registering an agreement of {id}",
}


def closest(evaluations: list[RuleEvaluation], allows: list[str] | None = None) -> RuleEvaluation | None:
    """The allow rule a decision is explained from: the permitting one, or else the closest to permitting (Five
    Safes rules first, then the fewest failed conditions)."""
    candidates = [e for e in evaluations if e.effect == "allow" and (not allows or e.rule_id in allows)]

    def closeness(e: RuleEvaluation) -> tuple[int, int]:
        tagged = any("." in c.name and c.name.split(".", 1)[0] in SAFES for c in e.conditions)
        return (0 if tagged else 1, sum(1 for c in e.conditions if not c.passed))

    return min(candidates, key=closeness, default=None)


def phrase(request: RequestAttributes) -> str:
    template = PHRASES.get(request.env.action, request.env.action.replace("_", " ") + " on {id}")
    return template.format(id=request.obj.id or "it", role=plain(request.env.role))


def permit_reason(rules: list[Rule], obligations: list[str]) -> str:
    """Which rules permitted it and what comes with it."""
    reason = f"Permitted by rule {', '.join(r.id for r in rules)}: {rules[0].description.rstrip('.')}."
    if obligations:
        reason += " Obligations: " + "; ".join(o.rstrip(".") for o in obligations) + "."
    return reason


def explicit_reason(rule: Rule, evaluation: RuleEvaluation, request: RequestAttributes) -> str:
    """A deny rule's reason: what it forbids, and the facts that made it apply."""
    facts = [_because(rule, c, request) for c in evaluation.conditions if c.passed and c.name != "scope"]
    said = "; ".join(f for f in facts if f)
    head = f"{phrase(request)} is forbidden: {rule.description.rstrip('.')}"
    return sentence([f"{head} ({said})" if said else head])


def implicit_reason(rule: Rule | None, evaluation: RuleEvaluation | None, request: RequestAttributes) -> str:
    """No allow rule matched: what failed in the closest one, in its own words."""
    if rule is None or evaluation is None:
        return sentence([f"{phrase(request)} is not permitted: no rule of the policy allows it"])
    failed = [c for c in evaluation.conditions if not c.passed]
    facts = [_because(rule, c, request) for c in failed]
    return sentence([f"{phrase(request)} is not permitted: " + "; ".join(f for f in facts if f)])


def _because(rule: Rule, condition: ConditionResult, request: RequestAttributes) -> str:
    if condition.name == "scope":
        return f"rule {rule.id} is for {', '.join(f'{k} {v}' for k, v in rule.scope)} only"
    said = first_applying(rule.wording(condition.name).because, request)
    # An empty sentence says nothing on purpose (another condition's sentence tells it better).
    return said if said is not None else f"the requirement {condition.name!r} of rule {rule.id} is not met"


def remedies(
    rules: dict[str, Rule], evaluations: list[RuleEvaluation], denies: list[str], request: RequestAttributes
) -> list[Remedy]:
    """What would have to change: for an explicit deny, each deny rule's remedy; for an implicit one, the
    smallest sets of failed conditions a person could make hold, each as something to do."""
    if denies:
        return [r for r in (_deny_remedy(rules[id], evaluations, request) for id in denies) if r is not None]
    deny_rules = [
        rules[e.rule_id]
        for e in evaluations
        if e.effect == "deny" and all(c.passed for c in e.conditions if c.name == "scope")
    ]
    candidates: list[tuple[Rule, list[str], tuple[list[str], dict[str, RequestAttributes]]]] = []
    for evaluation in evaluations:
        rule = rules[evaluation.rule_id]
        failed = [c.name for c in evaluation.conditions if not c.passed]
        if evaluation.effect != "allow" or not failed or "scope" in failed:
            continue
        compiled = {c.name: c for c in rule.conditions}
        if any(partially(compiled[name], request) is False for name in failed):
            continue  # something no person can change fails too: this rule cannot be met
        found = _coupled(rule, failed, request, deny_rules)
        if found is not None:
            candidates.append((rule, failed, found))
    if not candidates:
        return _who_can(rules, evaluations, request)
    fewest = min(len(failed) for _, failed, _ in candidates)
    return [
        _remedy(rule, failed + coupled, request, worded)
        for rule, failed, (coupled, worded) in candidates
        if len(failed) == fewest
    ]


def _coupled(
    rule: Rule, failed: list[str], request: RequestAttributes, deny_rules: list[Rule]
) -> tuple[list[str], dict[str, RequestAttributes]] | None:
    """The conditions that hold now but that no way of putting the failed ones right would keep, or None when
    there is no such way. Each reads a choice of the person's (access method, purpose) that the failed ones make
    them change, and is false for every value of it that they allow and no deny rule refuses: "use an enclave"
    under an agreement for API must also ask for the agreement to allow it.

    Beside them, the request to word each condition on that must follow such a change (see `_following`)."""
    wanted = [c for c in rule.conditions if c.name in failed]
    coupled: list[str] = []
    worded: dict[str, RequestAttributes] = {}
    for path, values in _choices(request).items():
        if not any(path in c.attributes for c in wanted):
            continue
        others = tuple(u for u in CHANGEABLE if u != path)
        viable = [
            choice
            for choice in (_choosing(request, path, v) for v in values)
            if all(partially(c, choice, others) is not False for c in wanted)
            and not any(_refuses(deny, choice) for deny in deny_rules)
        ]
        if not viable:
            return None  # every value that would meet the failed conditions is refused elsewhere
        coupled += [
            c.name
            for c in rule.conditions
            if c.name not in failed
            and c.name not in coupled
            and path in c.attributes
            and not any(c.evaluate(choice)[0] for choice in viable)
        ]
        if not any(resolve(choice, path) == resolve(request, path) for choice in viable):
            worded |= _following(wanted, path, values, viable, request)
    return coupled, worded


def _following(
    wanted: list[Condition],
    path: str,
    values: list[str],
    viable: list[RequestAttributes],
    request: RequestAttributes,
) -> dict[str, RequestAttributes]:
    """The person must change their choice at `path`; a failed condition that reads it and fails for every
    choice they may move to (the agreement's method, when the data needs an enclave) must follow that change.
    Its words must not tell them to choose otherwise ("use API, which the agreement allows" beside "use an
    enclave"), so it is worded as it reads where it holds ("ask for the agreement to allow the method you change
    to"), or, where no choice makes it hold, at the one choice they may move to ("allow SECURE_ENCLAVE")."""
    worded: dict[str, RequestAttributes] = {}
    for condition in wanted:
        if path not in condition.attributes or any(condition.evaluate(choice)[0] for choice in viable):
            continue
        holding = [c for c in (_choosing(request, path, v) for v in values) if condition.evaluate(c)[0]]
        if holding:
            worded[condition.name] = holding[0]
        elif len(viable) == 1:
            worded[condition.name] = viable[0]
    return worded


def _choices(request: RequestAttributes) -> dict[str, list[str]]:
    """The choices a person makes from a list, and the values worth trying: every access method; the purposes
    the dataset permits, the agreement covers and the person stated."""
    purposes = [*request.obj.permitted_purposes, request.env.agreement.purpose, request.env.purpose]
    return {
        "r.env.access_method": [m.value for m in AccessMethod],
        "r.env.purpose": sorted({p for p in purposes if p}),
    }


def _refuses(rule: Rule, request: RequestAttributes) -> bool:
    """Whether the deny rule (already known to be in scope) would refuse `request`."""
    return all(c.evaluate(request)[0] for c in rule.conditions)


def _choosing(request: RequestAttributes, path: str, value: str) -> RequestAttributes:
    """The request with the person's choice at `path` (an `r.env.` attribute) made otherwise."""
    changed: dict[str, Any] = {path.removeprefix("r.env."): value}
    return replace(request, env=replace(request.env, **changed))


def _who_can(rules: dict[str, Rule], evaluations: list[RuleEvaluation], request: RequestAttributes) -> list[Remedy]:
    """When nothing the person can change would do, who else could: the closest allow rule's own `remedy:`.
    It names no conditions: it is advice about someone else acting, not a change to this request."""
    reference = closest(evaluations)
    if reference is None or not rules[reference.rule_id].remedy:
        return []
    failed = [c.name for c in reference.conditions if not c.passed and c.name != "scope"]
    text = first_applying(rules[reference.rule_id].remedy, request)
    return [Remedy(safe=_safe(failed), conditions=[], text=text)] if text and failed else []


def _remedy(rule: Rule, failed: list[str], request: RequestAttributes, worded: dict[str, RequestAttributes]) -> Remedy:
    texts = []
    for name in failed:
        wording = rule.wording(name)
        text = first_applying(wording.remedy, worded.get(name, request))
        if text is None:
            # What is wrong is told as it is now: where a following condition is worded, it holds.
            because = first_applying(wording.because, request)
            text = f"put right that {because}" if because else f"meet the requirement {name!r} of rule {rule.id}"
        texts.append(text)
    return Remedy(safe=_safe(failed), conditions=[f"{rule.id}/{name}" for name in failed], text="; and ".join(texts))


def _deny_remedy(rule: Rule, evaluations: list[RuleEvaluation], request: RequestAttributes) -> Remedy | None:
    evaluation = next(e for e in evaluations if e.rule_id == rule.id)
    held = [c.name for c in evaluation.conditions if c.passed and c.name != "scope"]
    text = first_applying(rule.remedy, request) or f"nothing the asker can do: {rule.description}"
    return Remedy(safe=_safe(held), conditions=[f"{rule.id}/{name}" for name in held], text=text)


def _safe(names: list[str]) -> Safe | None:
    safes = {name.split(".", 1)[0] for name in names if "." in name and name.split(".", 1)[0] in SAFES}
    return Safe(safes.pop()) if len(safes) == 1 else None


__all__ = ["PHRASES", "closest", "explicit_reason", "implicit_reason", "permit_reason", "phrase", "remedies"]
