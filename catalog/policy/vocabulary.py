"""The catalog's vocabularies as standard terms: `vocabulary.yaml` beside the policy maps each configured purpose,
classification and GDPR lawful basis to an IRI (W3C DPV for purposes and legal bases).

It is configuration, not a record: it is read once when the services start, and a purpose or legal basis that is
configured but unmapped, or an IRI that is not one, stops the start with a PolicyError naming the file and entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from catalog.domain import LawfulBasis
from catalog.policy.rules import PolicyError, read_policy_file

VOCABULARY_FILE = "vocabulary.yaml"
DPV = "https://w3id.org/dpv"  # core DPV (#) and its extensions (/legal/eu/gdpr#, /pd#, ...)
SECTIONS = ("purposes", "classifications", "legal_bases")
# Characters RFC 3987 never allows in an IRI: a value holding one is a typo or two values run together.
_FORBIDDEN = frozenset(' <>"{}|\\^`\t\n\r')


@dataclass(frozen=True)
class Term:
    """One value of a vocabulary: the catalog's id for it, a label for people and the standard term's IRI."""

    id: str
    label: str
    iri: str


@dataclass(frozen=True)
class Vocabulary:
    """The configured purposes, classifications and legal bases, in their configured order, with their IRIs."""

    purposes: tuple[Term, ...]
    classifications: tuple[Term, ...]
    legal_bases: tuple[Term, ...]

    def purpose(self, id: str) -> Term:
        """The term of a configured purpose. KeyError for one not configured (the services refuse those)."""
        return _find(self.purposes, id)

    def legal_basis(self, id: str) -> Term:
        return _find(self.legal_bases, id)

    def classification(self, id: str) -> Term:
        return _find(self.classifications, id)


def _find(terms: Sequence[Term], id: str) -> Term:
    for term in terms:
        if term.id == id:
            return term
    raise KeyError(id)


def load_vocabulary(policy_dir: Path, purposes: Sequence[str], classifications: Sequence[str]) -> Vocabulary:
    """Read and check `vocabulary.yaml` in `policy_dir` against the configured vocabularies.

    Raises:
        PolicyError: naming the file and the entry, when the file is missing or unreadable, a configured value
            has no entry, or an entry's label or IRI is not what is expected.
    """
    path = policy_dir / VOCABULARY_FILE
    source = str(path)
    if not path.exists():
        raise PolicyError(f"{source}: missing; it maps purposes, classifications and legal bases to DPV IRIs")
    try:
        document = yaml.safe_load(read_policy_file(path, source))
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise PolicyError(f"{source}: expected a mapping with {', '.join(SECTIONS)}")
    configured = {
        "purposes": (list(purposes), True),
        "classifications": (list(classifications), False),
        "legal_bases": ([basis.value for basis in LawfulBasis], True),
    }
    sections = {
        name: tuple(_term(source, name, id, _section(document, source, name), dpv_only) for id in ids)
        for name, (ids, dpv_only) in configured.items()
    }
    return Vocabulary(sections["purposes"], sections["classifications"], sections["legal_bases"])


def _section(document: dict[str, Any], source: str, name: str) -> dict[str, Any]:
    section = document.get(name)
    if not isinstance(section, dict):
        raise PolicyError(f"{source}: {name}: expected a mapping of each value to its label and iri")
    return section


def _term(source: str, section_name: str, id: str, section: dict[str, Any], dpv_only: bool) -> Term:
    where = f"{source}: {section_name}.{id}"
    entry = section.get(id)
    if entry is None:
        raise PolicyError(f"{where}: configured but not mapped; add its label and iri")
    if not isinstance(entry, dict):
        raise PolicyError(f"{where}: expected a mapping with label and iri")
    label, iri = entry.get("label"), entry.get("iri")
    if not isinstance(label, str) or not label.strip():
        raise PolicyError(f"{where}.label: expected a non-empty text")
    if not isinstance(iri, str) or not is_absolute_iri(iri):
        raise PolicyError(f"{where}.iri: expected an absolute http(s) IRI, not {iri!r}")
    if dpv_only and not iri.startswith(DPV):
        raise PolicyError(f"{where}.iri: expected a DPV term ({DPV}#... or an extension), not {iri!r}")
    return Term(id=id, label=label.strip(), iri=iri)


def is_absolute_iri(text: str) -> bool:
    """Whether `text` is an absolute http(s) IRI with a host and something after it."""
    if not text or any(char in _FORBIDDEN for char in text):
        return False
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and bool(parts.path.strip("/") or parts.fragment)
