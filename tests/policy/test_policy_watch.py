"""A policy watcher that cannot die: every broken edit is one "reload refused" line, and watching goes on."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.policy.engine import PolicyEngine
from catalog.policy.expressions import compile_condition
from catalog.policy.rules import PolicyError
from catalog.policy.watch import watching
from tests.conftest import REPO
from tests.policy.test_policy_cli import catalog

WAIT_S = 30.0  # a bound on "eventually", not a latency target
EXTRA = "rules:\n  - id: extra\n    effect: allow\n    actions: [access]\n    description: One more rule.\n"


def invalid_utf8(rules: Path) -> str:
    (rules / "99-bad.yaml").write_bytes(b"rules:\n  - id: caf\xe9\n")
    return "rules/99-bad.yaml: not UTF-8 text"


def nested_not(rules: Path) -> str:
    condition = "not " * 5000 + "r.sub.anonymous"
    (rules / "99-bad.yaml").write_text(f"{EXTRA}    conditions:\n      deep: {condition}\n")
    return "nests too deeply"


def directory(rules: Path) -> str:
    (rules / "99-bad.yaml").mkdir()
    return "rules/99-bad.yaml: is a directory"


def nested_yaml(rules: Path) -> str:
    (rules / "99-bad.yaml").write_text("rules: " + "[" * 5000 + "]" * 5000 + "\n")
    return "rules/99-bad.yaml: nests too deeply"


BREAKAGES: list[Callable[[Path], str]] = [invalid_utf8, nested_not, directory, nested_yaml]


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(REPO / "policies", target)
    return target


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "policy reload refused" in r.getMessage()]


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda b: b.__name__)
def test_a_broken_edit_is_one_refusal_line_naming_file_and_problem(
    policy_dir: Path, caplog: pytest.LogCaptureFixture, breakage: Callable[[Path], str]
) -> None:
    engine = PolicyEngine(policy_dir)
    problem = breakage(policy_dir / "rules")

    assert engine.reload() is False

    [line] = refusals(caplog)
    assert problem in line.getMessage() and line.exc_info is None


@pytest.mark.parametrize("breakage", [invalid_utf8, nested_not, directory], ids=lambda b: b.__name__)
def test_policy_check_prints_the_same_single_line_and_exits_2(
    policy_dir: Path, breakage: Callable[[Path], str]
) -> None:
    problem = breakage(policy_dir / "rules")

    result = catalog("policy", "check", "--dir", str(policy_dir))

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert problem in result.stderr and "Traceback" not in result.stderr


async def until(condition: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.02)


def test_polling_goes_on_after_a_refused_edit(policy_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = PolicyEngine(policy_dir, reload_interval_s=0.02)  # the poll asks the engine, which checks this often
    first = engine.version

    async def scenario() -> None:
        async with watching(engine, 0.02):
            await asyncio.sleep(0.05)
            nested_not(policy_dir / "rules")
            await until(lambda: bool(refusals(caplog)))
            (policy_dir / "rules" / "99-bad.yaml").write_text(EXTRA)
            await until(lambda: engine.version != first)

    asyncio.run(scenario())
    assert "extra" in engine.policy.by_id


def test_sighup_with_a_broken_edit_logs_one_line_and_no_traceback(
    policy_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = PolicyEngine(policy_dir)
    invalid_utf8(policy_dir / "rules")

    async def scenario() -> None:
        async with watching(engine, 0):
            os.kill(os.getpid(), signal.SIGHUP)
            await until(lambda: bool(refusals(caplog)) or any(r.exc_info for r in caplog.records))

    asyncio.run(scenario())
    assert len(refusals(caplog)) == 1
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def test_casbin_operators_inside_quoted_strings_are_left_alone() -> None:
    condition = compile_condition("quoted", "r.env.purpose == 'A && !B || C' && !r.sub.anonymous")
    request = type("R", (), {})()
    request.env = type("E", (), {"purpose": "A && !B || C"})()  # type: ignore[attr-defined]
    request.sub = type("S", (), {"anonymous": False})()  # type: ignore[attr-defined]

    assert condition.evaluate(request)[0] is True


def test_a_model_whose_matcher_was_widened_is_refused(policy_dir: Path) -> None:
    model = policy_dir / "model.conf"
    matcher = "holds(p.id, r.sub, r.obj, r.env)"
    model.write_text(model.read_text().replace(matcher, f"{matcher} || true"))

    with pytest.raises(PolicyError, match="matcher"):
        PolicyEngine(policy_dir)
