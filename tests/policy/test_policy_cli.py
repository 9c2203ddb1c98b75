"""`catalog policy check|test|explain` as a user runs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import REPO
from tests.support.cli import clean_environment, run_cli


def catalog(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={**clean_environment(), **(env or {})})


def test_check_and_test_pass_on_the_shipped_policy() -> None:
    checked = catalog("policy", "check")
    tested = catalog("policy", "test")

    assert checked.returncode == 0 and checked.stdout.startswith("policy OK: version "), checked.stderr
    assert tested.returncode == 0, tested.stderr
    assert " passed, 0 failed" in tested.stdout


def test_check_names_file_line_and_rule_of_a_broken_policy(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(REPO / "policies", tmp_path / "p")
    (tmp_path / "p" / "rules" / "99-bad.yaml").write_text(
        "rules:\n  - id: typo\n    effect: allow\n    actions: [acess]\n    description: Misspelt.\n"
    )

    result = catalog("policy", "check", "--dir", str(tmp_path / "p"))

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "catalog: configuration error: rules/99-bad.yaml:2 rule 'typo': unknown action 'acess'; known: "
        + result.stderr.split("known: ", 1)[1].strip()
    ]


def test_explain_prints_the_decision_and_the_five_safes(tmp_path: Path) -> None:
    env = {"CATALOG_STORE": f"sqlite:///{tmp_path / 'c.db'}"}
    assert catalog("demo", env=env).returncode == 0

    result = catalog(
        "policy",
        "explain",
        "--as",
        "rui.uni",
        "--dataset",
        "health.admissions-deid",
        "--purpose",
        "RESEARCH",
        "--method",
        "SECURE_ENCLAVE",
        env=env,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("DENY (IMPLICIT) under policy ")
    # The reason, what would have to change, then the Five Safes: in that order.
    assert lines[1] == (
        "Access to health.admissions-deid is not permitted: rui.uni has no data-ethics training on record."
    )
    assert lines[2:4] == ["What would have to change (any one of these):", "  - complete data-ethics training"]
    assert lines[4] == "The Five Safes:"
    assert any(line.split() == ["safe", "people", "FAIL"] for line in lines[5:])
