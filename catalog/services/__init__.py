"""Use cases. The only layer that writes: each public method is one transaction, decided by the policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from catalog.config import Settings
from catalog.domain import utcnow
from catalog.policy.vocabulary import Vocabulary, load_vocabulary
from catalog.services.access import Access, DecisionFilter
from catalog.services.agreements import AgreementFilter, Agreements
from catalog.services.audit_trail import AuditTrail
from catalog.services.context import Listing, ServiceContext, new_id
from catalog.services.corrections import Corrections, WebhookDeliverer
from catalog.services.decisions import Decisions, PolicyEngine
from catalog.services.lineage import Lineage
from catalog.services.odrl import Odrl
from catalog.services.people import People
from catalog.services.provenance import Provenance
from catalog.services.reads import DatasetFilter, Reads
from catalog.services.redaction import Redaction
from catalog.services.register import Register
from catalog.services.registration import Registration
from catalog.services.sharing import ShareRequestFilter, Sharing
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
        clock: Callable[[], datetime] = utcnow,
        ids: Callable[[str, datetime], str] = new_id,
    ) -> None:
        self.engine = engine or PolicyEngine(settings.policy_dir, reload_interval_s=settings.policy_reload_interval_s)
        # Configuration read once at start: a purpose or legal basis without its DPV term stops the start here.
        self.vocabulary: Vocabulary = load_vocabulary(settings.policy_dir, settings.purposes, settings.classifications)
        self.decisions = Decisions(store, self.engine, settings.classifications, clock)
        self.ctx = ServiceContext(store, self.decisions, settings, clock, ids)
        self.store = store
        self.redaction = Redaction(self.ctx)
        self.people = People(self.ctx)
        self.registration = Registration(self.ctx)
        self.reads = Reads(self.ctx, self.redaction)
        self.lineage = Lineage(self.ctx, self.reads, self.redaction)
        self.provenance = Provenance(self.lineage, self.reads)
        self.deliverer = WebhookDeliverer.from_settings(store, clock, settings.webhooks)
        self.corrections = Corrections(self.ctx, self.deliverer, self.redaction)
        self.agreements = Agreements(self.ctx)
        self.odrl = Odrl(self.ctx, self.agreements, self.vocabulary)
        self.register = Register(self.agreements, self.reads, self.vocabulary, settings.api.max_page_size)
        self.sharing = Sharing(self.ctx, self.redaction)
        self.access = Access(self.ctx, self.redaction)
        self.audit = AuditTrail(self.ctx, self.redaction)
        self.web_sessions = WebSessions(store, clock)
