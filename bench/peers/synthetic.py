"""The synthetic scoped rules of bench/policy_eval.py, written for each engine as its users would write them.

Our rule's `scope: {owner: X}` becomes, in Cedar, a resource scope on the owning agency (`resource in
Agency::"X"`, the dataset's parent) and, in Rego, an equality on `input.obj.owner` in the rule's body, which OPA's
rule index uses. The conditions are translated one by one (CONDITIONS).
"""

from __future__ import annotations

from bench.policy_eval import CONDITIONS

# our condition -> (Cedar, Rego)
TRANSLATIONS = {
    CONDITIONS[0]: ("resource.permitted_purposes.contains(context.purpose)",
                    "input.env.purpose in input.obj.permitted_purposes"),
    CONDITIONS[1]: ("principal.training_current", "input.sub.training_current"),
    CONDITIONS[2]: ("context.agreement.active", "input.env.agreement.active"),
    CONDITIONS[3]: ("resource.classification_rank <= context.agreement.max_classification_rank",
                    "input.obj.classification_rank <= input.env.agreement.max_classification_rank"),
    CONDITIONS[4]: ('principal.roles.contains("ANALYST")', '"ANALYST" in input.sub.roles'),
    "r.env.purpose == 'LAW_ENFORCEMENT'": ('context.purpose == "LAW_ENFORCEMENT"',
                                           'input.env.purpose == "LAW_ENFORCEMENT"'),
}

Rules = list[tuple[str, str, str, list[str]]]  # policy_eval.synthetic_rules: (rule id, effect, owner, conditions)


def cedar_policies(rules: Rules) -> str:
    policies = []
    for rule_id, effect, owner, conditions in rules:
        clauses = "\n".join(f"when {{ {TRANSLATIONS[condition][0]} }}" for condition in conditions)
        verb = "permit" if effect == "allow" else "forbid"
        policies.append(f'@id("{rule_id}")\n{verb} (principal, action == Action::"access", '
                        f'resource in Agency::"{owner}")\n{clauses};')
    return "\n\n".join(policies) + "\n"


def rego_rules(rules: Rules) -> str:
    lines = ["package catalog.access", ""]
    for rule_id, effect, owner, conditions in rules:
        document = "allow_rules" if effect == "allow" else "deny_rules"
        lines.append(f'{document}["{rule_id}"] := {{')
        lines += [f'\t"c{n}": {TRANSLATIONS[condition][1]},' for n, condition in enumerate(conditions)]
        lines += ["} if {", '\tinput.env.action == "access"', f'\tinput.obj.owner == "{owner}"', "}", ""]
    return "\n".join(lines)
