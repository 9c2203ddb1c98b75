"""Policy evaluation alone, at 10, 100 and 1,000 rules and on the real policy: our engine against bare pycasbin.

The synthetic policies spread rules over agencies with an `owner` scope, as a real multi-agency policy would.
Our engine only meets the rules whose action and scope can match; bare pycasbin (the baseline) runs
`eval()` of every rule's condition for every request. The real policy (policies/, its `access` rules) decides
the typical DENY of policies/tests/access.yaml: a trained analyst's training has lapsed, under an active agreement.
"""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path

import casbin

from bench.measure import Figure, figure, timed
from catalog.policy.attributes import AgreementView, Environment, RequestAttributes, Resource, Subject
from catalog.policy.engine import LoadedPolicy, PolicyEngine

REPO = Path(__file__).resolve().parent.parent
RULES_PER_SCOPE = 5
CONDITIONS = [
    "r.env.purpose in r.obj.permitted_purposes",
    "r.sub.training_current",
    "r.env.agreement.active",
    "r.obj.classification_rank <= r.env.agreement.max_classification_rank",
    "'ANALYST' in r.sub.roles",
]
_BASELINE_EFFECT = """
[request_definition]
r = sub, obj, act, env

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
"""
BASELINE_MODEL = _BASELINE_EFFECT + """
[policy_definition]
p = id, eft, act, owner, cond

[matchers]
m = r.act == p.act && r.obj.owner == p.owner && eval(p.cond)
"""
UNSCOPED_BASELINE_MODEL = _BASELINE_EFFECT + """
[policy_definition]
p = id, eft, act, cond

[matchers]
m = r.act == p.act && eval(p.cond)
"""


def synthetic_rules(count: int) -> list[tuple[str, str, str, list[str]]]:
    """(rule id, effect, owner scope, conditions): RULES_PER_SCOPE rules for each of count/5 agencies."""
    rules = []
    for i in range(count):
        owner = f"agency-{i // RULES_PER_SCOPE}"
        effect = "deny" if i % RULES_PER_SCOPE == RULES_PER_SCOPE - 1 else "allow"
        conditions = CONDITIONS[: 2 + i % 4]
        if effect == "deny":
            conditions = ["r.env.purpose == 'LAW_ENFORCEMENT'"]
        rules.append((f"rule-{i:04d}", effect, owner, conditions))
    return rules


def write_policy(rules: list[tuple[str, str, str, list[str]]], folder: Path) -> Path:
    (folder / "rules").mkdir(parents=True)
    shutil.copy(REPO / "policies" / "model.conf", folder / "model.conf")
    lines = ["rules:"]
    for rule_id, effect, owner, conditions in rules:
        lines += [f"  - id: {rule_id}", f"    effect: {effect}", "    actions: [access]",
                  f"    description: Synthetic rule {rule_id} for {owner}.", f"    scope: {{owner: {owner}}}",
                  "    conditions:"]
        lines += [f'      c{n}: "{condition}"' for n, condition in enumerate(conditions)]
    (folder / "rules" / "synthetic.yaml").write_text("\n".join(lines) + "\n")
    return folder


def request(owner: str) -> RequestAttributes:
    return RequestAttributes(
        Subject(id="uma", agency="uni", roles=["ANALYST"], training_current=True),
        Resource(id="ds", owner=owner, classification="OFFICIAL", classification_rank=1,
                 permitted_purposes=["RESEARCH"]),
        Environment(action="access", purpose="RESEARCH", access_method="SECURE_ENCLAVE",
                    agreement=AgreementView(id="a", status="ACTIVE", active=True, max_classification_rank=2)),
    )


def _enforcer(model_text: str, lines: list[list[str]]) -> casbin.Enforcer:
    model = casbin.model.Model()
    model.load_model_from_text(model_text)
    enforcer = casbin.Enforcer(model)
    enforcer.add_policies(lines)
    return enforcer


def baseline_enforcer(rules: list[tuple[str, str, str, list[str]]]) -> casbin.Enforcer:
    return _enforcer(BASELINE_MODEL, [[rule_id, effect, "access", owner, " && ".join(conditions)]
                                      for rule_id, effect, owner, conditions in rules])


def real_baseline_enforcer(policy: LoadedPolicy) -> casbin.Enforcer:
    """Bare pycasbin on the real policy's access rules, each rule's conditions joined into one eval()."""
    return _enforcer(UNSCOPED_BASELINE_MODEL, [
        [rule.id, rule.effect, "access", " && ".join(f"({condition.source})" for condition in rule.conditions)]
        for rule in policy.rules if "access" in rule.actions
    ])


def real_policy_figure(iterations: int) -> Figure:
    """Our engine on policies/ deciding the typical DENY, beside bare pycasbin on the same rules."""
    from bench.peers.table import typical_deny

    engine, probe = PolicyEngine(REPO / "policies"), typical_deny()
    enforcer = real_baseline_enforcer(engine.policy)
    assert engine.decide(probe).outcome.value == "DENY"
    assert enforcer.enforce(probe.sub, probe.obj, "access", probe.env) is False
    base = figure("bare pycasbin enforce, real policy", "-",
                  *timed(partial(enforcer.enforce, probe.sub, probe.obj, "access", probe.env), iterations=iterations))
    return figure("policy decision, real policy (typical DENY)", "-", *timed(partial(engine.decide, probe),
                  iterations=iterations), baseline="bare pycasbin enforce", baseline_p50_ms=base.p50_ms)


def run(sizes: tuple[int, ...] = (10, 100, 1000), iterations: int = 2000) -> list[Figure]:
    figures = []
    for size in sizes:
        rules = synthetic_rules(size)
        probe = request(owner=rules[-1][2])
        with tempfile.TemporaryDirectory() as tmp:
            engine = PolicyEngine(write_policy(rules, Path(tmp) / "policies"))
        assert engine.decide(probe).outcome.value == "PERMIT"
        enforcer = baseline_enforcer(rules)
        assert enforcer.enforce(probe.sub, probe.obj, "access", probe.env) is True
        base_samples, base_wall = timed(partial(enforcer.enforce, probe.sub, probe.obj, "access", probe.env),
                                        iterations=max(50, iterations // max(1, size // 10)))
        base = figure(f"bare pycasbin enforce, {size} rules", "-", base_samples, base_wall)
        ours_samples, ours_wall = timed(partial(engine.decide, probe), iterations=iterations)
        figures.append(figure(f"policy decision, {size} rules", "-", ours_samples, ours_wall,
                              baseline="bare pycasbin enforce", baseline_p50_ms=base.p50_ms,
                              target="p50 <= 0.150 ms at 100 rules; 10x rules <= 2x time" if size == 100 else None))
    return [*figures, real_policy_figure(iterations)]


if __name__ == "__main__":
    from bench.measure import print_table

    print_table(run(), "Policy evaluation (attributes already loaded)")
