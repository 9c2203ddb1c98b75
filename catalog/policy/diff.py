"""What changed between two versions of the policy, rule by rule, as `catalog policy diff` prints it."""

from __future__ import annotations

from typing import Any

from catalog.policy.engine import LoadedPolicy
from catalog.policy.rules import Option, Rule


def _options(options: tuple[Option, ...]) -> list[str]:
    return [f"{o.when.source} => {o.text.text}" if o.when else o.text.text for o in options]


def _facets(rule: Rule) -> dict[str, Any]:
    """What a rule says, facet by facet, in the words of its file."""
    facets: dict[str, Any] = {
        "effect": rule.effect,
        "actions": ", ".join(rule.actions),
        "description": rule.description,
        "scope": ", ".join(f"{k}={v}" for k, v in rule.scope) or "none",
        "remedy": _options(rule.remedy),
    }
    for condition in rule.conditions:
        wording = rule.wording(condition.name)
        facets[f"condition {condition.name}"] = " ".join(condition.source.split())
        facets[f"condition {condition.name} because"] = _options(wording.because)
        facets[f"condition {condition.name} remedy"] = _options(wording.remedy)
    for obligation in rule.obligations:
        when = f" (when {obligation.when.source})" if obligation.when else ""
        facets[f"obligation {obligation.id}"] = f"{obligation.text}{when}"
    return facets


def diff_policies(old: LoadedPolicy, new: LoadedPolicy) -> list[str]:
    """One line per change: `+` a rule added, `-` a rule removed, `~` a facet of a rule changed."""
    lines = []
    if old.model_text != new.model_text:
        lines.append("~ model.conf changed")
    for id in sorted(new.by_id.keys() - old.by_id.keys()):
        rule = new.by_id[id]
        lines.append(
            f"+ rule {id} ({rule.source}:{rule.line}, {rule.effect} {', '.join(rule.actions)}): {rule.description}"
        )
    for id in sorted(old.by_id.keys() - new.by_id.keys()):
        lines.append(f"- rule {id}: {old.by_id[id].description}")
    for id in sorted(old.by_id.keys() & new.by_id.keys()):
        before, after = _facets(old.by_id[id]), _facets(new.by_id[id])
        for facet in sorted(before.keys() | after.keys()):
            if before.get(facet) != after.get(facet):
                lines.append(f"~ rule {id}: {facet}: {_shown(before.get(facet))} -> {_shown(after.get(facet))}")
    return lines


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "(none)"
    if isinstance(value, list):
        return " | ".join(value)
    return str(value)


__all__ = ["diff_policies"]
