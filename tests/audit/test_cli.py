"""`catalog audit verify|checkpoint|export|public-key` as real subprocesses against a real store, on both backends."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from catalog.audit.chain import event_id
from catalog.config import Settings
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.neo4j import Neo4jStore
from catalog.store.sqlite import SqliteStore
from tests.audit.conftest import UMA, RawEvents
from tests.support.cli import clean_environment, run_cli

DEID = {"dataset_id": "health.admissions-deid", "purpose": "RESEARCH"}


@pytest.fixture
def env(store: GraphStore, settings: Settings) -> dict[str, str]:
    """Settings naming the test's store and signing key, and nothing inherited from the developer's shell."""
    clean = clean_environment()
    if isinstance(store, SqliteStore):
        url = f"sqlite:///{store.path}"
    else:
        assert isinstance(store, Neo4jStore)
        url = store.uri
    return {**clean, "CATALOG_STORE": url, "CATALOG_AUDIT__SIGNING_KEY_FILE": str(settings.audit.signing_key_file)}


def audit(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("audit", *args, env=env, cwd=cwd)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_verify_prints_count_and_head(activity: Services, raw: RawEvents, env: dict[str, str], tmp_path: Path) -> None:
    ids = raw.ids()

    result = audit(env, tmp_path, "verify")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"audit trail intact: {len(ids)} events, head {raw.props(ids[-1])['hash']}\n"


def test_verify_exits_1_naming_the_first_broken_sequence(
    activity: Services, raw: RawEvents, env: dict[str, str], tmp_path: Path
) -> None:
    raw.delete(event_id(7))

    result = audit(env, tmp_path, "verify")

    assert result.returncode == 1
    assert one_line(result.stderr).startswith("catalog: audit trail broken at sequence 7: expected event 7")


def test_checkpoint_then_export_verifies_offline(
    activity: Services, settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    checkpointed = audit(env, tmp_path, "checkpoint", "--out", "checkpoint.json")
    activity.access.check(UMA, DEID)
    exported = audit(env, tmp_path, "export", "--out", "trail.jsonl")
    published = audit(env, tmp_path, "public-key", "--out", "audit.pub")
    signed = json.loads((tmp_path / "checkpoint.json").read_text())
    # Offline: the store named is unreachable and there is no signing key, only the public key.
    offline = {**env, "CATALOG_STORE": "neo4j://127.0.0.1:9", "CATALOG_AUDIT__SIGNING_KEY_FILE": "/nonexistent"}

    verified = audit(
        offline,
        tmp_path,
        "verify",
        "--export",
        "trail.jsonl",
        "--checkpoint",
        "checkpoint.json",
        "--public-key",
        "audit.pub",
    )

    assert (checkpointed.returncode, exported.returncode, published.returncode) == (0, 0, 0), exported.stderr
    assert len((tmp_path / "trail.jsonl").read_text().splitlines()) == signed["size"] + 1
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"audit trail intact: {signed['size'] + 1} events")
    assert f"extends the checkpoint of {signed['size']} events" in verified.stdout


def test_an_edited_export_fails_offline_at_the_edited_event(
    activity: Services, env: dict[str, str], tmp_path: Path
) -> None:
    audit(env, tmp_path, "export", "--out", "trail.jsonl")
    lines = (tmp_path / "trail.jsonl").read_text().splitlines()
    edited = json.loads(lines[11])
    edited["principal_id"] = "mallory"
    lines[11] = json.dumps(edited)
    (tmp_path / "trail.jsonl").write_text("\n".join(lines) + "\n")

    result = audit(env, tmp_path, "verify", "--export", "trail.jsonl")

    assert result.returncode == 1
    assert "broken at sequence 12: event 12's content does not match its hash" in one_line(result.stderr)


def test_a_checkpoint_from_another_key_is_refused(activity: Services, env: dict[str, str], tmp_path: Path) -> None:
    other = {**env, "CATALOG_AUDIT__SIGNING_KEY_FILE": str(tmp_path / "other.pem")}
    audit(other, tmp_path, "checkpoint", "--out", "foreign.json")
    audit(env, tmp_path, "public-key")  # this catalog's own key now exists too

    result = audit(env, tmp_path, "verify", "--checkpoint", "foreign.json")

    assert result.returncode == 1
    assert "--checkpoint: was signed by key" in one_line(result.stderr)


def test_the_public_key_is_printed_and_the_private_key_stays_private(
    services: Services, settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    result = audit(env, tmp_path, "public-key")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in result.stdout
    assert settings.audit.signing_key_file.stat().st_mode & 0o777 == 0o600
