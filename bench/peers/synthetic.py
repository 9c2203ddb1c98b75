"""The synthetic scoped rules of bench/policy_eval.py, written for each engine as its users would write them.

Our rule's `scope: {owner: X}` becomes, in Cedar, a resource scope on the owning agency (`resource in
Agency::"X"`, the dataset's parent) and, in Rego, a key: the rule is `scoped_allow["X"][id]` and the module looks
up `scoped_allow[input.obj.owner]`, so OPA evaluates only that agency's rules, as our index does. (Written as
`allow_rules[id] := ... if input.obj.owner == "X"`, OPA's rule index does not apply and 1,000 rules cost ten times
100: 0.83 against 0.09 ms p50 for the outcome, measured once.) Conditions are translated one by one (CONDITIONS).
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
    lines = [
        "package catalog.access",
        "",
        "allow_rules[id] := conditions if some id, conditions in scoped_allow[input.obj.owner]",
        "",
        "deny_rules[id] := conditions if some id, conditions in scoped_deny[input.obj.owner]",
        "",
    ]
    for rule_id, effect, owner, conditions in rules:
        document = "scoped_allow" if effect == "allow" else "scoped_deny"
        lines.append(f'{document}["{owner}"]["{rule_id}"] := {{')
        lines += [f'\t"c{n}": {TRANSLATIONS[condition][1]},' for n, condition in enumerate(conditions)]
        lines += ['} if input.env.action == "access"', ""]
    return "\n".join(lines)
