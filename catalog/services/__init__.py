"""Use cases. The only layer that writes: each public method is one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from catalog.config import Settings
from catalog.domain import utcnow
from catalog.policy.engine import PolicyEngine
from catalog.policy.gate import Gate, PolicyGate
from catalog.services.access import Access, DecisionFilter
from catalog.services.agreements import AgreementFilter, Agreements
from catalog.services.context import Listing, ServiceContext
from catalog.services.corrections import Corrections, WebhookDeliverer
from catalog.services.lineage import Lineage
from catalog.services.provenance import Provenance
from catalog.services.reads import DatasetFilter, Reads
from catalog.services.registration import Registration
from catalog.services.sharing import ShareRequestFilter, Sharing, SharingDecisions
from catalog.services.web_sessions import WebSessions
from catalog.store.base import GraphStore

__all__ = ["AgreementFilter", "DatasetFilter", "DecisionFilter", "Listing", "Services", "ShareRequestFilter"]


class Services:
    """Everything the API, the CLI and the connectors may ask of the catalog."""

    def __init__(
        self,
        store: GraphStore,
        settings: Settings,
        *,
        engine: PolicyEngine | None = None,
        gate: Gate | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine or PolicyEngine(settings.policy_dir)
        self.ctx = ServiceContext(store, gate or PolicyGate(self.engine, clock), settings, clock)
        self.store = store
        self.registration = Registration(self.ctx)
        self.reads = Reads(self.ctx)
        self.lineage = Lineage(self.ctx, self.reads)
        self.provenance = Provenance(self.lineage, self.reads)
        self.deliverer = WebhookDeliverer(store, clock)
        self.corrections = Corrections(self.ctx, self.deliverer, self.lineage.redact, self.lineage.visible)
        sharing_decisions = SharingDecisions(self.ctx, self.engine)
        self.agreements = Agreements(self.ctx, sharing_decisions)
        self.sharing = Sharing(self.ctx, sharing_decisions)
        self.access = Access(self.ctx, self.engine)
        self.web_sessions = WebSessions(store, clock)
