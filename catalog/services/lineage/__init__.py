"""Provenance lineage: recording processes and reading the graph they form, redacted to what a viewer may see.
Recording (and attesting) is in recording, reading in reading; what both hand back is in views."""

from __future__ import annotations

from catalog.services.context import ServiceContext
from catalog.services.lineage.reading import Reading
from catalog.services.lineage.recording import ATTESTABLE_IDENTIFIABILITY, ATTESTABLE_KINDS, ATTESTATION, Recording
from catalog.services.lineage.views import (
    ImpactedAgreement,
    ImpactedDataset,
    ImpactView,
    IngestResult,
    LineageNode,
    LineageView,
    ObservedDataset,
    ObservedRun,
)
from catalog.services.reads import Reads
from catalog.services.redaction import Redaction

__all__ = [
    "ATTESTABLE_IDENTIFIABILITY",
    "ATTESTABLE_KINDS",
    "ATTESTATION",
    "ImpactView",
    "ImpactedAgreement",
    "ImpactedDataset",
    "IngestResult",
    "Lineage",
    "LineageNode",
    "LineageView",
    "ObservedDataset",
    "ObservedRun",
]


class Lineage(Recording, Reading):
    """Provenance lineage, one transaction a call: `record`, `ingest` and `attest` write; `view`, `impact` and
    `path` read."""

    def __init__(self, ctx: ServiceContext, reads: Reads, redaction: Redaction) -> None:
        self.ctx = ctx
        self.reads = reads
        self.redaction = redaction
        self.decisions = ctx.decisions
