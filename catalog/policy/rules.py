"""Policy rules as code: `policies/rules/*.yaml`, checked and compiled when the policy loads.

A rule has a stable id, an effect (allow or deny), the actions it covers, an optional scope (which narrows the
requests it can match, so the engine only looks at rules that might apply), named conditions, obligations and
one plain-language sentence. A condition's name starts with its safe (`project.`, `people.`, `settings.`,
`data.`, `outputs.`) when it is one of the Five Safes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catalog.errors import ConfigError
from catalog.policy.expressions import Condition, ExpressionError, compile_condition
from catalog.policy.sentences import Template, TemplateError

ACTIONS = frozenset(
    {
        "read_metadata",
        "read_decision",
        "read_agreement",
        "read_register",
        "read_share_request",
        "read_notice",
        "read_person",
        "read_audit",
        "access",
        "request_share",
        "approve_share",
        "reject_share",
        "suspend_agreement",
        "resume_agreement",
        "revoke_agreement",
        "administer",
        "register_agency",
        "register_person",
        "record_training",
        "register_dataset",
        "update_dataset",
        "assign_steward",
        "unassign_steward",
        "grant_role",
        "deactivate_person",
        "reactivate_person",
        "record_lineage",
        "attest_process",
        "register_agreement",
        "renew_agreement",
        "issue_correction",
    }
)
SAFES = ("project", "people", "settings", "data", "outputs")
SCOPES = frozenset({"dataset", "owner", "agency"})
_RULE_KEYS = frozenset({"id", "effect", "actions", "description", "scope", "conditions", "obligations", "remedy"})
_CONDITION_KEYS = frozenset({"holds", "because", "remedy"})
# Who the request is by and about, and what it asks: any sentence may name these, whatever its condition reads.
IDENTITY = (
    "r.sub.id",
    "r.sub.agency",
    "r.obj.id",
    "r.obj.owner",
    "r.env.action",
    "r.env.purpose",
    "r.env.access_method",
    "r.env.fields",
    "r.env.role",
)
READ_ACTIONS = frozenset(action for action in ACTIONS if action.startswith("read_"))


class PolicyError(ConfigError):
    """The policy files are not valid. The message names the file, the line and the rule id."""


@dataclass(frozen=True)
class Option:
    """One wording of a sentence, used when its `when` holds (always, without one). The first that applies wins."""

    text: Template
    when: Condition | None = None

    def applies(self, request: Any) -> bool:
        return self.when is None or self.when.evaluate(request)[0]


def first_applying(options: tuple[Option, ...], request: Any) -> str | None:
    """The first option that applies, rendered for `request`; None when none does."""
    for option in options:
        if option.applies(request):
            return option.text.render(request)
    return None


@dataclass(frozen=True)
class Wording:
    """What a condition says when it counts against a request (failed in an allow rule, held in a deny rule):
    `because`, the fact in plain words, and `remedy`, what a person could do about it."""

    because: tuple[Option, ...] = ()
    remedy: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Obligation:
    id: str
    text: str
    when: Condition | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    effect: str
    actions: tuple[str, ...]
    description: str
    conditions: tuple[Condition, ...]
    obligations: tuple[Obligation, ...] = ()
    scope: tuple[tuple[str, str], ...] = ()
    source: str = ""
    line: int = 0
    wordings: tuple[tuple[str, Wording], ...] = ()  # by condition name
    remedy: tuple[Option, ...] = ()  # a deny rule's: what it forbids and who can change that

    def wording(self, condition: str) -> Wording:
        return next((w for name, w in self.wordings if name == condition), Wording())

    def safe_of(self, condition: Condition) -> str | None:
        prefix = condition.name.split(".", 1)[0]
        return prefix if prefix in SAFES and "." in condition.name else None


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line each mapping starts on (as `__line__`)."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def _fail(source: str, line: int, rule_id: str | None, message: str) -> PolicyError:
    where = f"{source}:{line}" + (f" rule {rule_id!r}" if rule_id else "")
    return PolicyError(f"{where}: {message}")


def _conditions(raw: Any, where: tuple[str, int, str]) -> tuple[tuple[Condition, ...], tuple[tuple[str, Wording], ...]]:
    """A rule's conditions, each written `name: expression` or `name: {holds, because, remedy}`."""
    source, line, rule_id = where
    if raw is None:
        return (), ()
    if not isinstance(raw, dict):
        raise _fail(source, line, rule_id, "conditions must be a mapping of name: expression")
    compiled, wordings = [], []
    for name, spec in raw.items():
        if name == "__line__":
            continue
        entry = spec if isinstance(spec, dict) else {"holds": spec}
        unknown = sorted(set(entry) - _CONDITION_KEYS - {"__line__"})
        if unknown:
            raise _fail(source, line, rule_id, f"condition {name!r}: unknown key(s) {', '.join(unknown)}")
        expression = entry.get("holds")
        if not isinstance(expression, str):
            raise _fail(source, line, rule_id, f"condition {name!r} must be a string expression")
        try:
            condition = compile_condition(str(name), expression)
        except ExpressionError as exc:
            raise _fail(source, line, rule_id, str(exc)) from None
        compiled.append(condition)
        reads = condition.attributes
        wording = Wording(
            because=_options(entry.get("because"), reads, where, f"condition {name!r} because"),
            remedy=_options(entry.get("remedy"), reads, where, f"condition {name!r} remedy"),
        )
        if wording != Wording():
            wordings.append((str(name), wording))
    return tuple(compiled), tuple(wordings)


def _options(raw: Any, reads: tuple[str, ...], where: tuple[str, int, str], what: str) -> tuple[Option, ...]:
    """A sentence: one template, or a list of `{when, text}` tried in order."""
    source, line, rule_id = where
    if raw is None:
        return ()
    entries = raw if isinstance(raw, list) else [{"text": raw}]
    options = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise _fail(source, line, rule_id, f"{what}: expected a sentence, or a list of {{when, text}}")
        when = None
        try:
            if entry.get("when") is not None:
                when = compile_condition(f"{what} when", str(entry["when"]))
            reads_too = (*reads, *(when.attributes if when else ()))
            text = Template.parse(" ".join(entry["text"].split()), reads_too, IDENTITY)
        except (ExpressionError, TemplateError) as exc:
            raise _fail(source, line, rule_id, f"{what}: {exc}") from None
        options.append(Option(text, when))
    return tuple(options)


def _obligations(raw: Any, where: tuple[str, int, str]) -> tuple[Obligation, ...]:
    source, line, rule_id = where
    result = []
    for entry in raw or []:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), str)
            or not isinstance(entry.get("text"), str)
        ):
            raise _fail(source, line, rule_id, "each obligation needs an id and a text")
        when = None
        if entry.get("when") is not None:
            try:
                when = compile_condition(f"obligation {entry['id']}", str(entry["when"]))
            except ExpressionError as exc:
                raise _fail(source, entry.get("__line__", line), rule_id, str(exc)) from None
        result.append(Obligation(entry["id"], entry["text"], when))
    return tuple(result)


def _rule(raw: dict[str, Any], source: str) -> Rule:
    line = int(raw.get("__line__", 0))
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise _fail(source, line, None, "every rule needs a string id")
    unknown = sorted(set(raw) - _RULE_KEYS - {"__line__"})
    if unknown:
        raise _fail(
            source, line, rule_id, f"unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(_RULE_KEYS))}"
        )
    effect = raw.get("effect")
    if effect not in ("allow", "deny"):
        raise _fail(source, line, rule_id, f"effect must be allow or deny, not {effect!r}")
    actions = raw.get("actions")
    if not isinstance(actions, list) or not actions:
        raise _fail(source, line, rule_id, "actions must be a non-empty list")
    for action in actions:
        if action not in ACTIONS:
            raise _fail(source, line, rule_id, f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise _fail(source, line, rule_id, "description must be one sentence a non-programmer can read")
    scope = raw.get("scope") or {}
    if not isinstance(scope, dict) or set(scope) - SCOPES - {"__line__"}:
        raise _fail(source, line, rule_id, f"scope may only name {', '.join(sorted(SCOPES))}")
    where = (source, line, rule_id)
    conditions, wordings = _conditions(raw.get("conditions"), where)
    reads = tuple(path for c in conditions for path in c.attributes)
    return Rule(
        id=rule_id,
        effect=effect,
        actions=tuple(actions),
        description=" ".join(description.split()),
        conditions=conditions,
        obligations=_obligations(raw.get("obligations"), where),
        scope=tuple(sorted((k, str(v)) for k, v in scope.items() if k != "__line__")),
        source=source,
        line=line,
        wordings=wordings,
        remedy=_options(raw.get("remedy"), reads, where, "remedy"),
    )


def read_policy_file(path: Path, source: str) -> str:
    """A policy file's text. Raises PolicyError naming the file when it is not a readable UTF-8 file."""
    if path.is_dir():
        raise PolicyError(f"{source}: is a directory, not a policy file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{source}: not UTF-8 text (byte {exc.start} is 0x{exc.object[exc.start]:02x})") from None
    except OSError as exc:
        raise PolicyError(f"{source}: cannot be read ({exc.strerror})") from None


def load_rule_file(path: Path, display: str | None = None) -> list[Rule]:
    source = display or path.name
    return load_rule_text(read_policy_file(path, source), source)


def load_rule_text(text: str, source: str) -> list[Rule]:
    """The rules of one file's text; `source` names the file in errors."""
    try:
        document = yaml.load(text, Loader=_LineLoader)
        if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
            raise _fail(source, 1, None, "expected a mapping with a 'rules' list")
        return [_rule(raw, source) for raw in document["rules"]]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _fail(source, (mark.line + 1) if mark else 0, None, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise PolicyError(f"{source}: nests too deeply to be a rule file") from None


def load_rules(paths: list[tuple[Path, str]]) -> list[Rule]:
    """Every rule of the given files, in order. Raises PolicyError on the first problem, or on a repeated id."""
    return load_rules_text([(display, read_policy_file(path, display)) for path, display in paths])


def load_rules_text(files: list[tuple[str, str]]) -> list[Rule]:
    """Every rule of the given (name, text) files, in order. Raises PolicyError on the first problem, or on a
    repeated id."""
    rules: list[Rule] = []
    seen: dict[str, Rule] = {}
    for display, text in files:
        for rule in load_rule_text(text, display):
            if rule.id in seen:
                first = seen[rule.id]
                raise _fail(
                    rule.source, rule.line, rule.id, f"duplicate id; first defined at {first.source}:{first.line}"
                )
            seen[rule.id] = rule
            rules.append(rule)
    return rules


def unworded(rules: list[Rule]) -> list[str]:
    """Warnings for conditions that could refuse a request but have no `because:` sentence to say why."""
    warnings = []
    for rule in rules:
        if set(rule.actions) <= READ_ACTIONS:
            continue  # read rules filter lists; they never write a reason
        for condition in rule.conditions:
            if not rule.wording(condition.name).because:
                warnings.append(
                    f"{rule.source}:{rule.line} rule {rule.id!r}: condition {condition.name!r} has no `because:` "
                    "sentence; a refusal will name the condition instead"
                )
    return warnings


@dataclass
class RuleIndex:
    """Rules by (action, scope kind, scope value), so a request only meets rules that can match it."""

    buckets: dict[tuple[str, str, str], list[Rule]] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: list[Rule]) -> RuleIndex:
        index = cls()
        for rule in rules:
            kind, value = rule.scope[0] if rule.scope else ("", "")
            for action in rule.actions:
                index.buckets.setdefault((action, kind, value), []).append(rule)
        return index

    def keys_for(self, action: str, dataset: str, owner: str, agency: str) -> list[tuple[str, str, str]]:
        wanted = [(action, "", ""), (action, "dataset", dataset), (action, "owner", owner), (action, "agency", agency)]
        return [key for key in wanted if key in self.buckets]
