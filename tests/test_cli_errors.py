"""The CLI as a user meets it when something is wrong: one clear line naming the setting, a non-zero exit, no traceback.

The cases that judge what reaches the terminal run `python -m catalog.cli` as a real subprocess against a real
(broken) store. The others call the CLI in-process and judge the error it raises, which `catalog.cli.main` turns
into that one line (or click's usage error, for an option out of range).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import pytest
from typer.testing import CliRunner, Result

from catalog.cli import cli
from catalog.config import load_settings, server_url
from catalog.errors import ConfigError, InvalidInput
from tests.support.cli import clean_environment, run_cli

# A bound on waiting out retries, not a latency target: the time an unreachable Neo4j may add to the same command
# failing on a store URL it rejects before connecting (interpreter start and imports, several seconds on a busy
# machine, are in both). Waiting out the driver's retries would add 30 s.
UNREACHABLE_EXTRA_S = 10.0
T = TypeVar("T")
GARBAGE = b"this is not a database" * 200


def free_port() -> int:
    """A loopback TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_catalog(
    cwd: Path, env: Mapping[str, str], *args: str, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with only the given CATALOG_ settings (none inherited from the developer's shell)."""
    # dev mode, or serve would refuse the default secret
    return run_cli(*args, env={**clean_environment(), "CATALOG_DEV_MODE": "true", **env}, cwd=cwd, timeout=timeout)


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *mentions: str) -> str:
    """A non-zero exit and exactly one non-empty stderr line, with no traceback, that mentions each of `mentions`."""
    assert result.returncode != 0, f"expected failure, got exit 0; stdout:\n{result.stdout}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result.stderr}"
    for text in mentions:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    return lines[0]


SERVE = ("serve", "--host", "127.0.0.1", "--port")


def command(name: str) -> tuple[str, ...]:
    """The CLI arguments for a command name; `serve` gets its own free port so it could never clash."""
    if name == "serve":
        return (*SERVE, str(free_port()))
    return tuple(name.split())


@pytest.mark.parametrize("name", ["db init", "serve"])
def test_an_unknown_store_url_is_named(tmp_path: Path, name: str) -> None:
    result = run_catalog(tmp_path, {"CATALOG_STORE": "postgres://x"}, *command(name))

    assert_one_clear_line(result, "CATALOG_STORE", "postgres://x")


@pytest.mark.parametrize("scheme", ["neo4j", "bolt"])
@pytest.mark.parametrize("name", ["db init", "serve"])
def test_an_unreachable_neo4j_fails_within_seconds(tmp_path: Path, name: str, scheme: str) -> None:
    port = free_port()
    rejected = timed(lambda: run_catalog(tmp_path, {"CATALOG_STORE": "postgres://x"}, *command(name)))[1]

    result, elapsed = timed(
        lambda: run_catalog(tmp_path, {"CATALOG_STORE": f"{scheme}://127.0.0.1:{port}"}, *command(name))
    )

    assert_one_clear_line(result, "CATALOG_STORE", f"127.0.0.1:{port}")
    assert elapsed - rejected < UNREACHABLE_EXTRA_S, (
        f"took {elapsed:.1f} s to report an unreachable Neo4j, against {rejected:.1f} s for a rejected store URL"
    )


def timed(run: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = run()
    return result, time.monotonic() - started


@pytest.mark.parametrize("name", ["db init", "demo", "serve"])
def test_a_corrupt_sqlite_file_is_named_and_left_alone(tmp_path: Path, name: str) -> None:
    corrupt = tmp_path / "catalog.db"
    corrupt.write_bytes(GARBAGE)

    result = run_catalog(tmp_path, {"CATALOG_STORE": f"sqlite:///{corrupt}"}, *command(name))

    assert_one_clear_line(result, "CATALOG_STORE", str(corrupt))
    assert corrupt.read_bytes() == GARBAGE


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("CATALOG_PORT", "notanumber"),
        ("CATALOG_PORT", "70000"),
        ("CATALOG_NEO4J__CONNECT_TIMEOUT_S", "0"),
        ("CATALOG_AUTH__JWT_ALGORITHM", "none"),
        ("CATALOG_LOG_LEVEL", "LOUD"),
    ],
)
def test_a_bad_setting_is_named(tmp_path: Path, setting: str, value: str) -> None:
    env = {"CATALOG_STORE": f"sqlite:///{tmp_path / 'catalog.db'}", setting: value}

    result = run_catalog(tmp_path, env, *command("serve"))

    assert_one_clear_line(result, setting)


def test_a_port_in_use_is_one_line_naming_it_and_how_to_choose_another(tmp_path: Path) -> None:
    env = {"CATALOG_STORE": f"sqlite:///{tmp_path / 'catalog.db'}"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])

        result = run_catalog(tmp_path, env, *SERVE, port)

    line = assert_one_clear_line(result, f"port {port}", "--port", "CATALOG_PORT")
    assert "in use" in line
    assert result.returncode == 2
    assert "serving" not in result.stdout + result.stderr


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_catalog(tmp_path, {}, "--help")

    assert result.returncode == 0, result.stderr
    for name in ("serve", "demo", "db"):
        assert name in result.stdout


def test_serve_help_lists_its_options(tmp_path: Path) -> None:
    result = run_catalog(tmp_path, {}, "serve", "--help")

    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "CATALOG_HOST", "CATALOG_PORT"):
        assert option in result.stdout


def test_serve_refuses_the_default_secret_outside_dev_mode(tmp_path: Path) -> None:
    env = {"CATALOG_STORE": f"sqlite:///{tmp_path / 'catalog.db'}", "CATALOG_DEV_MODE": "false"}

    result = run_catalog(tmp_path, env, *command("serve"))

    assert_one_clear_line(result, "CATALOG_AUTH__JWT_SECRET", "CATALOG_DEV_MODE")
    assert result.returncode == 2


def test_a_setting_that_is_not_json_is_one_line_naming_it(tmp_path: Path) -> None:
    env = {"CATALOG_STORE": f"sqlite:///{tmp_path / 'catalog.db'}", "CATALOG_CLASSIFICATIONS": "notjson"}

    result = run_catalog(tmp_path, env, "db", "init")

    assert_one_clear_line(result, "CATALOG_CLASSIFICATIONS", "JSON list")
    assert result.returncode == 2


def test_serve_announces_only_a_server_it_could_build(tmp_path: Path) -> None:
    env = {
        "CATALOG_STORE": f"sqlite:///{tmp_path / 'catalog.db'}",
        "CATALOG_AUTH__JWT_ALGORITHM": "RS256",  # without the JWKS URL and issuer it needs: the app cannot be built
        "CATALOG_AUTH__JWT_SECRET": "xyzxyz",
    }

    result = run_catalog(tmp_path, env, *command("serve"))

    assert_one_clear_line(result, "CATALOG_AUTH__JWKS_URL", "RS256")
    assert result.returncode == 2
    assert "serving" not in result.stdout + result.stderr


@pytest.fixture
def catalog_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An in-process CLI run's settings: a fresh SQLite store in tmp_path, dev mode, nothing from the shell."""
    for name in os.environ:
        if name.startswith("CATALOG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env file is read
    monkeypatch.setenv("CATALOG_STORE", f"sqlite:///{tmp_path / 'catalog.db'}")
    monkeypatch.setenv("CATALOG_DEV_MODE", "true")
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="catalog")


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("CATALOG_CLASSIFICATIONS", "notjson", "a JSON list"),
        ("CATALOG_PURPOSES", "[RESEARCH", "a JSON list"),
        ("CATALOG_NEO4J", "x", "a JSON object"),
    ],
)
def test_a_setting_that_is_not_json_says_what_is_expected(
    catalog_env: Path, monkeypatch: pytest.MonkeyPatch, setting: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(setting, value)

    with pytest.raises(ConfigError) as raised:
        load_settings()

    assert raised.value.message.startswith(f"{setting}: "), raised.value.message
    assert expected in raised.value.message


def test_the_log_level_is_one_of_pythons_levels(catalog_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    monkeypatch.setenv("CATALOG_LOG_LEVEL", "debug")

    assert raised.value.message.startswith("CATALOG_LOG_LEVEL: "), raised.value.message
    assert all(level in raised.value.message for level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
    assert load_settings().log_level == "DEBUG"


@pytest.mark.parametrize(("port", "bound"), [("70000", "65535"), ("-5", "0")])
def test_serve_refuses_a_port_out_of_range_naming_the_option(catalog_env: Path, port: str, bound: str) -> None:
    result = invoke("serve", "--port", port)

    assert result.exit_code == 2, result.output  # click's usage error
    error = result.output.strip().splitlines()[-1]
    assert "'--port'" in error and error.endswith(f" {bound}"), error
    assert "serving" not in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("export", "dcat", "--out", "missing/catalog.ttl"), "--out"),
        (("export", "register", "--format", "uk-dea", "--out", "missing/register.csv"), "--out"),
        (("schema", "export", "--path", "missing/schema.graphql"), "--path"),
        (("schema", "export", "--path", "."), "--path"),  # a folder
    ],
)
def test_an_output_that_cannot_be_written_is_named_by_its_option(
    catalog_env: Path, args: tuple[str, ...], option: str
) -> None:
    result = invoke(*args)

    assert isinstance(result.exception, InvalidInput), result.output
    assert result.exception.field == option
    assert result.exception.rule.startswith(f"cannot write {args[-1]}: ")


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8795"),
        ("catalog.example", "http://catalog.example:8795"),
        ("::1", "http://[::1]:8795"),
        ("fe80::1%eth0", "http://[fe80::1%25eth0]:8795"),
    ],
)
def test_a_server_url_brackets_an_ipv6_host(host: str, url: str) -> None:
    assert server_url(host, 8795) == url


def test_dcat_export_on_an_ipv6_host_names_it_in_brackets(catalog_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_HOST", "::1")

    result = invoke("export", "dcat")

    assert result.exit_code == 0, result.output
    assert "http://[::1]:8000" in result.stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("token", "issue", "--person", "nobody"), "--person"),
        (("policy", "explain", "--as", "nobody", "--dataset", "health.admissions"), "--as"),
        (("ingest", "openlineage", "events.jsonl", "--as", "nobody"), "--as"),
    ],
)
def test_a_person_the_catalog_does_not_know_is_named_by_its_option(
    catalog_env: Path, args: tuple[str, ...], option: str
) -> None:
    result = invoke(*args)

    assert isinstance(result.exception, InvalidInput), result.output
    assert result.exception.message == f"{option}: the catalog has no person 'nobody'"
