"""The decision engine: Casbin decides, and every condition's result is kept so the decision can say why.

Rules are indexed by action and scope. Each index bucket has its own Casbin enforcer holding only that bucket's
rules, so a request is matched against the rules that can apply to it, not against every rule. Casbin's matcher
calls `holds(rule id, ...)`, which evaluates the rule's compiled conditions and logs each result with the
attribute values it read. The outcome is Casbin's (allow unless a deny matched); the explanation is the log.
If Casbin and the log ever disagree, the decision is DENY (fail closed).

A per-item check that needs the outcome alone (`permits`: may this dataset be seen) applies the model every policy
is held to (`EXPECTED_MODEL`) to the same buckets itself, stopping at the first condition that fails, with no log.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import casbin

import catalog
from catalog.audit.chain import digest
from catalog.domain import ConditionResult, DenyKind, Outcome, Remedy, RuleEvaluation, SafeResult, SafeStatus
from catalog.policy.attributes import RequestAttributes
from catalog.policy.expressions import Condition
from catalog.policy.reasons import closest, explicit_reason, implicit_reason, permit_reason, remedies
from catalog.policy.rules import SAFES, PolicyError, Rule, RuleIndex, load_rules_text, read_policy_file
from catalog.policy.visibility import Untranslatable, check_translatable

log = logging.getLogger("catalog.policy")
ENGINE_VERSION = f"catalog-{catalog.__version__}+pycasbin-{importlib.metadata.version('pycasbin')}"
MODEL_FILE = "model.conf"
RULES_GLOB = "rules/*.yaml"


@dataclass
class Evaluation:
    """What the engine concluded, before it becomes a recorded Decision."""

    outcome: Outcome
    deny_kind: DenyKind | None
    determining_rules: list[str]
    evaluations: list[RuleEvaluation]
    safes: list[SafeResult]
    obligations: list[str]
    reason: str
    policy_version: str
    engine_version: str = ENGINE_VERSION
    remedies: list[Remedy] = field(default_factory=list)  # what would have to change; for a DENY only


@dataclass(eq=False)  # hashed by identity: a reload installs a new object, so caches keyed on it stay correct
class LoadedPolicy:
    version: str
    rules: list[Rule]
    index: RuleIndex
    model_text: str
    by_id: dict[str, Rule] = field(default_factory=dict)
    files: tuple[tuple[str, str], ...] = ()  # (path under the policy folder, text) of every rule file


def policy_files(policy_dir: Path) -> tuple[Path, list[Path]]:
    model = policy_dir / MODEL_FILE
    if not model.is_file():
        raise PolicyError(f"{model}: the Casbin model file is missing (CATALOG_POLICY_DIR={policy_dir})")
    return model, sorted(policy_dir.glob(RULES_GLOB))


def fingerprint(policy_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, modification times and sizes of the policy files: a change to any of them changes this."""
    try:
        model, rules = policy_files(policy_dir)
    except (PolicyError, OSError):
        return ()
    stats = []
    for path in [model, *rules]:
        with contextlib.suppress(OSError):
            info = path.stat()
            stats.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(stats)


def load_policy(policy_dir: Path) -> LoadedPolicy:
    """Read, check and compile the policy. Raises PolicyError naming file, line and rule on any problem."""
    model_path, rule_paths = policy_files(policy_dir)
    if not rule_paths:
        raise PolicyError(f"{policy_dir / RULES_GLOB}: no rule files")
    model_text = read_policy_file(model_path, str(model_path))
    files = tuple(
        (name, read_policy_file(path, name)) for path in rule_paths for name in [str(path.relative_to(policy_dir))]
    )
    return compile_policy(model_text, files, str(model_path))


def compile_policy(model_text: str, files: tuple[tuple[str, str], ...], model_source: str = MODEL_FILE) -> LoadedPolicy:
    """A policy from its model and rule file texts, as files on disk or a version kept in the store hold them."""
    _check_model(model_text, Path(model_source))
    rules = load_rules_text(list(files))
    try:
        check_translatable(rules)
    except Untranslatable as exc:
        raise PolicyError(f"{exc} (read rules must compile into store queries)") from None
    hashed = hashlib.sha256(model_text.encode())
    for name, text in files:
        hashed.update(b"\0" + name.encode() + b"\0" + text.encode())
    return LoadedPolicy(
        hashed.hexdigest()[:16], rules, RuleIndex.build(rules), model_text, {rule.id: rule for rule in rules}, files
    )


# What _check_model holds the model to, as pycasbin reads it back (dots become underscores).
EXPECTED_MODEL = (
    ("r", "r", "request_definition", "sub, obj, act, env"),
    ("e", "e", "policy_effect", "some(where (p_eft == allow)) && !some(where (p_eft == deny))"),
    ("m", "m", "matcher", "r_act == p_act && holds(p_id, r_sub, r_obj, r_env)"),
)


def _check_model(text: str, path: Path) -> None:
    try:
        model = casbin.model.Model()
        model.load_model_from_text(text)
    except Exception as exc:  # pycasbin raises assorted errors for a bad model
        raise PolicyError(f"{path}: not a valid Casbin model: {exc}") from None
    tokens = model["p"]["p"].tokens
    if tokens != ["p_id", "p_eft", "p_act"]:
        raise PolicyError(f"{path}: policy_definition must be `p = id, eft, act`, not {', '.join(tokens)}")
    # The engine explains decisions from holds() and the two effects: any other matcher or effect (say one with
    # `|| true` appended) would decide something the explanation does not describe.
    for section, key, name, expected in EXPECTED_MODEL:
        assertion = model.model.get(section, {}).get(key)  # pycasbin's Model has no `in`: it would loop forever
        found = assertion.value if assertion is not None else ""
        if "".join(found.split()) != "".join(expected.split()):
            raise PolicyError(f"{path}: the {name} must be `{expected}`, not `{found}`")


class _Quiet:
    """Stands in for pycasbin's request logger: never enabled, so it never formats a request."""

    def isEnabledFor(self, level: int) -> bool:
        return False


_QUIET = _Quiet()


class _Enforcer(casbin.Enforcer):
    """pycasbin parses the matcher again on every enforce() call; parse it once per thread instead.

    Per thread, because the parsed evaluator keeps the current request's names while it runs.
    """

    def __init__(self, model: casbin.model.Model) -> None:
        super().__init__(model)
        self._parsed = threading.local()
        # pycasbin logs every request with all its attributes (personal values too) at INFO or WARNING once a
        # logging set-up such as uvicorn's re-enables its logger. The engine logs its own digested line instead.
        self.logger = _QUIET

    def _get_expression(self, expr: str, functions: Any = None) -> Any:
        cache: dict[str, Any] = self._parsed.__dict__
        if expr not in cache:
            cache[expr] = casbin.Enforcer._get_expression(expr, functions)
        return cache[expr]


class _Run(threading.local):
    """Per-thread log of the current evaluation (Casbin's matcher function writes into it), and the policy it
    runs under: a reload on another thread mid-evaluation must not swap the rules under it."""

    request: RequestAttributes | None = None
    policy: LoadedPolicy | None = None
    results: dict[str, RuleEvaluation]


class PolicyEngine:
    """Decides under the policy in `policy_dir`.

    With `reload_interval_s` > 0, every use of the policy first checks the files, at most once per interval, and
    reloads them when they changed. A decision is therefore never made under files that changed more than
    `reload_interval_s` before it: the bound holds on every thread and does not depend on a background poller
    being scheduled in time (replicas reading the same files agree within that interval).
    """

    def __init__(
        self, policy_dir: Path, *, reload_interval_s: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy_dir = policy_dir
        self.reload_interval_s = reload_interval_s
        self._clock = clock
        self._run = _Run()
        self._lock = threading.Lock()
        self._installed: dict[str, LoadedPolicy] = {}
        self._checking = threading.Lock()
        # Taken before loading: a change made while loading is seen (and loaded) at the next check.
        self._checked, self._seen = clock(), fingerprint(policy_dir)
        self._install(load_policy(policy_dir))

    @property
    def policy(self) -> LoadedPolicy:
        self.refresh()
        return self._policy

    @property
    def version(self) -> str:
        return self.policy.version

    def refresh(self) -> None:
        """Reload if the files changed since the last check, checking at most once per `reload_interval_s`.

        Callers that find the interval passed wait for the one check (and reload) in progress, so none of them
        decides under the old files once a check has seen them change.
        """
        if self.reload_interval_s <= 0 or self._clock() - self._checked < self.reload_interval_s:
            return
        with self._checking:
            started = self._clock()
            if started - self._checked < self.reload_interval_s:
                return  # another thread checked while this one waited
            current = fingerprint(self.policy_dir)
            if current != self._seen:
                self.reload()  # a broken edit is refused and logged once; the old version keeps serving
                self._seen = current
            self._checked = started

    def _install(self, policy: LoadedPolicy) -> None:
        enforcers = {key: self._enforcer(policy.model_text, rules) for key, rules in policy.index.buckets.items()}
        with self._lock:
            self._policy, self._enforcers = policy, enforcers
            self._installed[policy.version] = policy

    def installed(self, version: str) -> LoadedPolicy | None:
        """A version this engine has served since it started (decisions name it), or None."""
        return self._installed.get(version)

    def _enforcer(self, model_text: str, rules: list[Rule]) -> _Enforcer:
        model = casbin.model.Model()
        model.load_model_from_text(model_text)
        enforcer = _Enforcer(model)
        enforcer.add_function("holds", self._holds)
        enforcer.add_policies([[rule.id, rule.effect, action] for rule in rules for action in rule.actions])
        return enforcer

    def reload(self) -> bool:
        """Load the policy files again. An invalid policy is refused (logged) and the old one keeps serving."""
        try:
            policy = load_policy(self.policy_dir)
        except PolicyError as exc:
            log.error("policy reload refused; still serving version %s: %s", self._policy.version, exc)
            return False
        except Exception as exc:  # a loader failure nobody foresaw must not end the watcher either
            log.error(
                "policy reload refused; still serving version %s: %s: %s: %s",
                self._policy.version, self.policy_dir, type(exc).__name__, exc,
            )
            return False
        if policy.version != self._policy.version:
            self._install(policy)
            log.info("policy reloaded: version %s (%d rules)", policy.version, len(policy.rules))
        return True

    # -- evaluation ----------------------------------------------------------------------------------------

    def _holds(self, rule_id: str, sub: Any, obj: Any, env: Any) -> bool:
        run = self._run
        request, policy = run.request, run.policy
        assert request is not None and policy is not None, "holds() called outside decide()"
        rule = policy.by_id[rule_id]
        results = [_scope_result(rule, request)] if rule.scope else []
        for condition in rule.conditions:
            passed, seen = condition.evaluate(request)
            # Plain constructors: pydantic-core validates these in about half the time model_construct's Python
            # takes to skip validation (1.5 vs 2.7 us each, some 30 per decision).
            results.append(ConditionResult(name=condition.name, passed=passed, seen=seen, expected=condition.source))
        matched = all(result.passed for result in results)
        run.results[rule_id] = RuleEvaluation(rule_id=rule_id, effect=rule.effect, matched=matched, conditions=results)
        return matched

    def _evaluate(self, request: RequestAttributes) -> _Evaluated:
        """Run the enforcers of the rule buckets that bear on `request`: each one's verdict, whether each rule it
        asked about matched, and every rule's evaluation as holds() logged it."""
        self.refresh()
        with self._lock:
            policy, enforcers = self._policy, self._enforcers
        action = request.env.action
        keys = policy.index.keys_for(action, request.obj.id, request.obj.owner, request.sub.agency)
        run = self._run
        run.request, run.policy, run.results = request, policy, {}
        try:
            verdicts = {key: enforcers[key].enforce(request.sub, request.obj, action, request.env) for key in keys}
            return _Evaluated(policy, verdicts, list(run.results.values()))
        finally:
            run.request = run.policy = None

    def permits(self, request: RequestAttributes) -> bool:
        """Whether the policy permits `request`: `decide`'s outcome, without the reasons, obligations and Five Safes
        that only a recorded Decision shows (for a per-item check, such as whether a dataset may be seen).

        It applies the model every policy is held to (`EXPECTED_MODEL`: a rule applies when its action is the one
        asked and its conditions hold; permitted when some allow rule applies and no deny rule does) to the same
        rule buckets, without pycasbin's interpreter of that matcher: deny rules first, then allow rules until one
        applies, each rule's conditions stopping at the first that fails. Nothing of what they saw is kept, which
        is all a per-item check needs; `decide` runs pycasbin and explains. The property test
        `test_permits_is_the_outcome_that_decide_gives` holds the two to the same outcome."""
        self.refresh()
        with self._lock:
            policy = self._policy
        keys = policy.index.keys_for(request.env.action, request.obj.id, request.obj.owner, request.sub.agency)
        rules = [rule for key in keys for rule in policy.index.buckets[key]]

        def applies(rule: Rule) -> bool:
            return _in_scope(rule, request) and all(condition.holds(request) for condition in rule.conditions)

        denied = any(applies(rule) for rule in rules if rule.effect == "deny")
        return not denied and any(applies(rule) for rule in rules if rule.effect == "allow")

    def decide(self, request: RequestAttributes) -> Evaluation:
        """Decide one request. Never raises for a policy outcome; an internal inconsistency is a DENY."""
        evaluated = self._evaluate(request)
        evaluation = _conclude(evaluated, request)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "decision %s %s on %s for %s (agency %s) under %s: rules %s",
                evaluation.outcome.value,
                request.env.action,
                request.obj.id,
                _pseudonym(request.sub.id),
                request.sub.agency or "-",
                evaluation.policy_version,
                ",".join(evaluation.determining_rules) or "none",
            )
        return evaluation


def _pseudonym(person_id: str) -> str:
    """A person id as the server log shows it: a digest that still tells one person's decisions apart."""
    return "sha256:" + digest(person_id)[:12]


def _scope_seen(request: RequestAttributes) -> dict[str, str]:
    """What a rule's scope (`dataset`, `owner`, `agency`) is compared with."""
    return {"dataset": request.obj.id, "owner": request.obj.owner, "agency": request.sub.agency}


def _in_scope(rule: Rule, request: RequestAttributes) -> bool:
    if not rule.scope:
        return True
    actual = _scope_seen(request)
    return all(actual[kind] == value for kind, value in rule.scope)


def _scope_result(rule: Rule, request: RequestAttributes) -> ConditionResult:
    actual = _scope_seen(request)
    return ConditionResult(
        name="scope",
        passed=_in_scope(rule, request),
        seen={kind: actual[kind] for kind, _ in rule.scope},
        expected=", ".join(f"{k} == {v!r}" for k, v in rule.scope),
    )


@dataclass(frozen=True, slots=True)
class _Evaluated:
    """One run of the enforcers: the policy it ran under, each bucket's verdict, and the evaluation of every rule
    holds() was asked about."""

    policy: LoadedPolicy
    verdicts: dict[tuple[str, str, str], bool]
    evaluations: list[RuleEvaluation]

    def allows_and_denies(self) -> tuple[list[str], list[str]]:
        """The ids of the allow rules and of the deny rules whose every condition held."""
        held = [e for e in self.evaluations if e.matched]
        return [e.rule_id for e in held if e.effect == "allow"], [e.rule_id for e in held if e.effect == "deny"]

    def disagreeing(self, allows: list[str], denies: list[str]) -> tuple[str, str, str] | None:
        """The first rule bucket whose verdict from pycasbin is not what the rules it logged imply (an allow and
        no deny), or None when every one agrees."""
        for key, verdict in self.verdicts.items():
            bucket = {rule.id for rule in self.policy.index.buckets[key]}
            if verdict != (any(r in bucket for r in allows) and not any(r in bucket for r in denies)):
                return key
        return None


def _conclude(evaluated: _Evaluated, request: RequestAttributes) -> Evaluation:
    policy, verdicts, evaluations = evaluated.policy, evaluated.verdicts, evaluated.evaluations
    allows, denies = evaluated.allows_and_denies()
    if (key := evaluated.disagreeing(allows, denies)) is not None:
        reason = f"the policy engine disagreed with its own log on rule bucket {key}; denied to be safe"
        return Evaluation(Outcome.DENY, DenyKind.IMPLICIT, [], evaluations, [], [], reason, policy.version)
    permitted = any(verdicts.values()) and not denies
    reference = closest(evaluations, allows if permitted else None)
    obligations = _obligations(policy, request, allows) if permitted else []
    safes = _five_safes(policy, evaluations, reference, denies, obligations)
    if permitted:
        reason = permit_reason([policy.by_id[id] for id in allows], obligations)
        return Evaluation(Outcome.PERMIT, None, allows, evaluations, safes, obligations, reason, policy.version)
    # Remedies and readable reasons are worked out for refusals only: a permit costs no more than it did.
    fixes = remedies(policy.by_id, evaluations, denies, request)
    if denies:
        denying = next(e for e in evaluations if e.rule_id == denies[0])
        reason = explicit_reason(policy.by_id[denies[0]], denying, request)
        return Evaluation(
            Outcome.DENY, DenyKind.EXPLICIT, denies, evaluations, safes, [], reason, policy.version, remedies=fixes
        )
    rule = policy.by_id[reference.rule_id] if reference else None
    reason = implicit_reason(rule, reference, request)
    return Evaluation(
        Outcome.DENY, DenyKind.IMPLICIT, [], evaluations, safes, [], reason, policy.version, remedies=fixes
    )


def _safe(name: str) -> str | None:
    prefix = name.split(".", 1)[0]
    return prefix if prefix in SAFES and "." in name else None


def _five_safes(
    policy: LoadedPolicy,
    evaluations: list[RuleEvaluation],
    reference: RuleEvaluation | None,
    denies: list[str],
    obligations: list[str],
) -> list[SafeResult]:
    evidence: dict[str, list[str]] = {safe: [] for safe in SAFES}
    failed: set[str] = set()
    for condition in reference.conditions if reference else []:
        safe = _safe(condition.name)
        if safe:
            evidence[safe].append(
                f"{'passed' if condition.passed else 'FAILED'}: {condition.name} "
                f"({condition.expected}; saw {_show(condition.seen)})"
            )
            if not condition.passed:
                failed.add(safe)
    for evaluation in evaluations:
        if evaluation.rule_id in denies:
            for condition in evaluation.conditions:
                safe = _safe(condition.name)
                if safe and condition.passed:
                    evidence[safe].append(
                        f"FAILED: deny rule {evaluation.rule_id} matched {condition.name} (saw {_show(condition.seen)})"
                    )
                    failed.add(safe)
    evidence["outputs"] += [f"obligation: {text}" for text in obligations]
    results = []
    for safe in SAFES:
        status = SafeStatus.FAIL if safe in failed else SafeStatus.PASS if evidence[safe] else SafeStatus.NOT_APPLICABLE
        results.append(SafeResult(safe=f"safe {safe}", status=status, evidence=evidence[safe]))
    return results


def _obligations(policy: LoadedPolicy, request: RequestAttributes, allows: list[str]) -> list[str]:
    texts: list[str] = []
    for rule_id in allows:
        for obligation in policy.by_id[rule_id].obligations:
            if obligation.when is None or obligation.when.evaluate(request)[0]:
                texts.append(f"{obligation.id}: {obligation.text}")
    return list(dict.fromkeys(texts))


def _show(seen: dict[str, Any]) -> str:
    return ", ".join(f"{path.removeprefix('r.')}={value!r}" for path, value in seen.items()) or "nothing"


__all__ = [
    "ENGINE_VERSION",
    "Condition",
    "Evaluation",
    "PolicyEngine",
    "PolicyError",
    "compile_policy",
    "fingerprint",
    "load_policy",
]
