"""`catalog policy check`: a broken policy is refused with the file, the line and the rule id."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from catalog.domain import Outcome
from catalog.policy.engine import PolicyEngine
from catalog.policy.rules import PolicyError
from catalog.policy.testing import attributes_from, run_policy_tests
from tests.conftest import REPO

POLICIES = REPO / "policies"


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


EXTRA_RULE = """
    rules:
      - id: extra
        effect: allow
        actions: [access]
        description: One more rule.
    """


def add_rules(policy_dir: Path, body: str) -> None:
    (policy_dir / "rules" / "99-extra.yaml").write_text(textwrap.dedent(body))


def test_the_shipped_policy_passes_its_own_tests() -> None:
    results = run_policy_tests(PolicyEngine(POLICIES), POLICIES / "tests")

    assert len(results) >= 25
    assert [r.name for r in results if not r.passed] == []


def test_a_permit_with_obligations_reads_as_sentences() -> None:
    defaults = yaml.safe_load((POLICIES / "tests" / "access.yaml").read_text())["defaults"]

    evaluation = PolicyEngine(POLICIES).decide(attributes_from(defaults, "access.yaml defaults"))

    assert evaluation.outcome == Outcome.PERMIT
    assert " Obligations: " in evaluation.reason
    assert evaluation.reason.endswith(".")
    assert ".." not in evaluation.reason and ".;" not in evaluation.reason, evaluation.reason


def test_a_wrong_expectation_is_reported(policy_dir: Path) -> None:
    (policy_dir / "tests" / "wrong.yaml").write_text(
        textwrap.dedent("""
        cases:
          - name: expects the impossible
            request: {sub: {id: x, anonymous: true}, env: {action: access}}
            expect: {outcome: PERMIT, rules: [access-five-safes]}
    """)
    )

    results = {r.name: r for r in run_policy_tests(PolicyEngine(policy_dir), policy_dir / "tests")}

    problems = results["expects the impossible"].problems
    assert problems[0].startswith("outcome DENY, expected PERMIT: Access to dataset is not permitted")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            """
         rules:
           - id: bad-attribute
             effect: allow
             actions: [access]
             description: Reads something that does not exist.
             conditions:
               nonsense: r.sub.shoe_size > 40
         """,
            "99-extra.yaml:3 rule 'bad-attribute': condition 'nonsense' reads unknown attribute r.sub.shoe_size",
        ),
        (
            """
         rules:
           - id: bad-action
             effect: allow
             actions: [teleport]
             description: An action nobody knows.
         """,
            "99-extra.yaml:3 rule 'bad-action': unknown action 'teleport'",
        ),
        (
            """
         rules:
           - id: fine
             effect: allow
             actions: [access]
             description: Fine.
           - id: access-five-safes
             effect: deny
             actions: [access]
             description: Same id as a shipped rule.
         """,
            "99-extra.yaml:7 rule 'access-five-safes': duplicate id; first defined at rules/20-access.yaml:",
        ),
        (
            """
         rules:
           - id: sneaky
             effect: allow
             actions: [access]
             description: Tries to call a function.
             conditions:
               call: __import__('os').system('true')
         """,
            "rule 'sneaky': condition 'call' uses Call",
        ),
        (
            """
         rules:
           - id: unlistable
             effect: allow
             actions: [read_metadata]
             description: Cannot become a store query.
             conditions:
               purposes: "'RESEARCH' in r.obj.permitted_purposes"
         """,
            "rule 'unlistable': condition 'purposes'",
        ),
        (
            """
         rules:
           - id: no-effect
             actions: [access]
             description: Forgot the effect.
         """,
            "rule 'no-effect': effect must be allow or deny",
        ),
    ],
)
def test_invalid_rules_are_refused_naming_file_line_and_rule(policy_dir: Path, rules: str, message: str) -> None:
    add_rules(policy_dir, rules)

    with pytest.raises(PolicyError) as err:
        PolicyEngine(policy_dir)

    assert message in str(err.value)


def test_a_model_with_other_policy_fields_is_refused(policy_dir: Path) -> None:
    model = policy_dir / "model.conf"
    model.write_text(model.read_text().replace("p = id, eft, act", "p = sub, obj, act"))

    with pytest.raises(PolicyError, match="policy_definition must be `p = id, eft, act`"):
        PolicyEngine(policy_dir)


def test_version_is_a_hash_of_model_and_rules(policy_dir: Path) -> None:
    before = PolicyEngine(policy_dir).version
    add_rules(policy_dir, EXTRA_RULE)

    assert PolicyEngine(policy_dir).version != before
    assert PolicyEngine(POLICIES).version == PolicyEngine(POLICIES).version


def test_reload_swaps_to_a_valid_edit_and_refuses_a_broken_one(
    policy_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = PolicyEngine(policy_dir)
    first = engine.version
    add_rules(policy_dir, EXTRA_RULE)
    assert engine.reload() is True
    second = engine.version
    add_rules(policy_dir, "rules: [{id: broken}]")

    assert engine.reload() is False
    assert engine.version == second != first
    assert "policy reload refused; still serving version" in caplog.text
    assert "rule 'broken': effect must be allow or deny" in caplog.text


def test_an_engine_in_use_picks_up_an_edit_within_its_reload_interval(policy_dir: Path) -> None:
    now = [0.0]
    engine = PolicyEngine(policy_dir, reload_interval_s=2.0, clock=lambda: now[0])
    first = engine.version
    add_rules(policy_dir, EXTRA_RULE)

    now[0] = 1.9
    within = engine.version  # checked less than an interval ago: the files are not looked at yet
    now[0] = 2.0
    after = engine.version

    assert within == first
    assert after != first and "extra" in engine.policy.by_id
