"""Signed checkpoints: the key is made safely, signatures hold, and a verifier with an old checkpoint can prove the
log only grew, or catch what the chain alone cannot (a consistent rewrite or a truncated tail), on both backends.
"""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from catalog.audit.chain import event_id
from catalog.audit.checkpoint import (
    key_id,
    read_checkpoint,
    sign_checkpoint,
    signing_key,
    trusted_key,
    verify_signature,
    write_checkpoint,
)
from catalog.config import Settings
from catalog.errors import ConfigError, Conflict, InvalidInput
from catalog.services import Services
from catalog.services.audit_trail import checkpoint_store, verify_store
from tests.audit.conftest import UMA, RawEvents
from tests.audit.test_tamper import alter, alter_and_rehash, delete_and_renumber

HEAD = "a" * 64


def test_the_signing_key_is_made_on_first_use_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.pem"

    first = signing_key(path)
    again = signing_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_id(first.public_key()) == key_id(again.public_key())


def test_a_key_others_can_read_is_refused_naming_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "audit.pem"
    signing_key(path)
    path.chmod(0o644)

    with pytest.raises(ConfigError, match=r"CATALOG_AUDIT__SIGNING_KEY_FILE: .* \(mode 0644\); run chmod 600"):
        signing_key(path)


def test_a_key_file_that_is_not_a_key_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.pem"
    path.write_text("not a key")
    path.chmod(0o600)

    with pytest.raises(ConfigError, match=r"CATALOG_AUDIT__SIGNING_KEY_FILE: .* is not an unencrypted PEM private key"):
        signing_key(path)


def test_a_checkpoint_verifies_only_with_its_key_and_only_unchanged(tmp_path: Path) -> None:
    key, other = signing_key(tmp_path / "a.pem"), signing_key(tmp_path / "b.pem")
    path = tmp_path / "checkpoint.json"
    write_checkpoint(sign_checkpoint(key, 7, HEAD, "2026-01-01T00:00:00.000000Z"), path)
    checkpoint = read_checkpoint(path)

    verify_signature(checkpoint, key.public_key())
    with pytest.raises(InvalidInput, match=f"signed by key {key_id(key.public_key())}, not by the trusted key"):
        verify_signature(checkpoint, other.public_key())
    with pytest.raises(InvalidInput, match="signature does not verify"):
        verify_signature(dataclasses.replace(checkpoint, size=8), key.public_key())


def test_a_verifier_without_a_key_is_told_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="--public-key: is needed"):
        trusted_key(None, tmp_path / "absent.pem")
    assert not (tmp_path / "absent.pem").exists()  # a verifier never makes a key of its own


def test_a_checkpoint_file_of_the_wrong_shape_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_text('{"format": "public-catalog-audit-checkpoint/1", "size": -1, "head": "x"}')

    with pytest.raises(InvalidInput, match=r"--checkpoint: .*size must be a whole number"):
        read_checkpoint(path)


def test_the_log_grew_since_the_checkpoint(activity: Services, settings: Settings) -> None:
    signed = checkpoint_store(activity.store, signing_key(settings.audit.signing_key_file))
    activity.access.check(UMA, {"dataset_id": "health.admissions-deid", "purpose": "RESEARCH"})

    report = verify_store(activity.store, signed.expected())

    assert report.intact and report.matched == signed.expected()
    assert report.count == signed.size + 1


def test_a_consistent_rewrite_of_the_newest_event_is_caught_only_by_a_checkpoint(
    activity: Services, settings: Settings, raw: RawEvents
) -> None:
    signed = checkpoint_store(activity.store, signing_key(settings.audit.signing_key_file))
    alter_and_rehash(raw, signed.size, signed.size)
    activity.access.check(UMA, {"dataset_id": "health.admissions-deid", "purpose": "RESEARCH"})

    assert verify_store(activity.store).intact  # the new event chained onto the forgery
    report = verify_store(activity.store, signed.expected())

    assert report.broken is not None and report.broken.sequence == signed.size


def test_a_truncated_tail_is_caught_by_a_checkpoint(activity: Services, settings: Settings, raw: RawEvents) -> None:
    signed = checkpoint_store(activity.store, signing_key(settings.audit.signing_key_file))
    delete_and_renumber(raw, signed.size, signed.size)

    assert verify_store(activity.store).intact  # counter and all: a valid, shorter log
    report = verify_store(activity.store, signed.expected())

    assert report.broken is not None and report.broken.sequence == signed.size
    assert f"the log ends at event {signed.size - 1}" in report.broken.problem


def test_a_broken_log_is_never_signed(activity: Services, settings: Settings, raw: RawEvents) -> None:
    alter("principal_id", "mallory")(raw, 3, 0)

    with pytest.raises(Conflict, match="refusing to sign a broken audit trail: sequence 3"):
        checkpoint_store(activity.store, signing_key(settings.audit.signing_key_file))
    assert raw.props(event_id(3))["principal_id"] == "mallory"
