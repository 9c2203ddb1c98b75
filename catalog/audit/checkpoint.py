"""Signed checkpoints of the audit trail: (size, head hash) signed with an Ed25519 key.

A checkpoint lets anyone holding it prove later that the log only grew: the first `size` events of today's log
must still hash to the `head` it signed. The signature is what stops someone with write access to the database
from rewriting the whole chain consistently; it is only as good as the verifier's copy of the public key, so a
verifier checks it against a key it trusts (`--public-key`, or the signing key itself), never against the copy
embedded in the checkpoint file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from catalog.audit.chain import GENESIS, ExpectedHead, canonical
from catalog.errors import ConfigError, InvalidInput

KEY_SETTING = "CATALOG_AUDIT__SIGNING_KEY_FILE"
FORMAT = "public-catalog-audit-checkpoint/1"


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of SHA-256 over its raw bytes."""
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# --- the signing key ------------------------------------------------------------------------------------------


def signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 signing key at `path`, generated there (mode 0600) on first use."""
    path = path.expanduser()
    if not path.exists():
        _generate(path)
    return _load_private(path)


def _generate(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_EXCL: if another process generates the key at the same moment, we keep theirs instead.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise ConfigError(f"{KEY_SETTING}: cannot create {path}: {exc.strerror}") from None
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def _load_private(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{KEY_SETTING}: cannot read {path}: {exc.strerror}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{KEY_SETTING}: {path} is open to other users (mode {stat.S_IMODE(mode):04o}); run chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{KEY_SETTING}: {path} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{KEY_SETTING}: {path} holds a {type(key).__name__}, expected an Ed25519 key")
    return key


def trusted_key(public_key_file: Path | None, signing_key_file: Path) -> Ed25519PublicKey:
    """The public key a verifier trusts: `--public-key FILE`, else the public half of the signing key.

    Never generates a key: a verifier without one cannot check anything, and says so.
    """
    if public_key_file is not None:
        return _load_public(public_key_file)
    if signing_key_file.expanduser().exists():
        return _load_private(signing_key_file.expanduser()).public_key()
    raise InvalidInput(
        "--public-key",
        f"is needed to check the checkpoint's signature ({signing_key_file} does not exist; "
        f"set {KEY_SETTING} or pass the key printed by `catalog audit public-key`)",
    )


def _load_public(path: Path) -> Ed25519PublicKey:
    try:
        pem = path.expanduser().read_bytes()
    except OSError as exc:
        raise InvalidInput("--public-key", f"cannot read {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise InvalidInput("--public-key", f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput("--public-key", f"{path} holds a {type(key).__name__}, expected an Ed25519 key")
    return key


# --- checkpoints ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the audit trail had `size` events ending in `head`, as of `at`."""

    size: int
    head: str
    at: str
    key_id: str
    signature: str
    format: str = FORMAT

    def statement(self) -> bytes:
        """The exact bytes signed: everything but the signature itself."""
        return canonical({"format": self.format, "size": self.size, "head": self.head, "at": self.at}).encode()

    def expected(self) -> ExpectedHead:
        return ExpectedHead(self.size, self.head)


def sign_checkpoint(key: Ed25519PrivateKey, size: int, head: str, at: str) -> Checkpoint:
    unsigned = Checkpoint(size=size, head=head, at=at, key_id=key_id(key.public_key()), signature="")
    signature = base64.b64encode(key.sign(unsigned.statement())).decode()
    return Checkpoint(size=size, head=head, at=at, key_id=unsigned.key_id, signature=signature)


def verify_signature(checkpoint: Checkpoint, trusted: Ed25519PublicKey) -> None:
    """Raise InvalidInput on `--checkpoint` unless `trusted` signed exactly this checkpoint."""
    if checkpoint.key_id != key_id(trusted):
        raise InvalidInput(
            "--checkpoint", f"was signed by key {checkpoint.key_id}, not by the trusted key {key_id(trusted)}"
        )
    try:
        trusted.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.statement())
    except (InvalidSignature, binascii.Error, ValueError):
        raise InvalidInput(
            "--checkpoint", f"signature does not verify with key {checkpoint.key_id}: the file was altered"
        ) from None


def write_checkpoint(checkpoint: Checkpoint, path: Path) -> None:
    """Write the checkpoint as JSON; an OSError is the caller's to name (the CLI names its --out)."""
    path.write_text(json.dumps(asdict(checkpoint), indent=2, sort_keys=True) + "\n")


def read_checkpoint(path: Path) -> Checkpoint:
    """A checkpoint file, checked for shape (not yet for its signature)."""
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput("--checkpoint", f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise InvalidInput("--checkpoint", f"{path} is not JSON") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InvalidInput("--checkpoint", f"{path} is not a {FORMAT} file")
    size, head = raw.get("size"), raw.get("head")
    if type(size) is not int or size < 0:
        raise InvalidInput("--checkpoint", f"{path}: size must be a whole number >= 0")
    if not isinstance(head, str) or len(head) != len(GENESIS):
        raise InvalidInput("--checkpoint", f"{path}: head must be a SHA-256 hex digest")
    for name in ("at", "key_id", "signature"):
        if not isinstance(raw.get(name), str):
            raise InvalidInput("--checkpoint", f"{path}: {name} must be a string")
    return Checkpoint(size=size, head=head, at=raw["at"], key_id=raw["key_id"], signature=raw["signature"])
