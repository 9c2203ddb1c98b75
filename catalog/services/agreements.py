"""Sharing agreements: recording the agreements under which one agency shares datasets with another."""

from __future__ import annotations

from typing import Any

from catalog.domain import SharingAgreement, parse_model
from catalog.errors import InvalidInput, NotFound
from catalog.principal import Principal
from catalog.services.audit import append_event, diff
from catalog.services.context import ServiceContext
from catalog.services.links import link
from catalog.store.base import GraphTx
from catalog.store.records import from_props, to_props
from catalog.store.schema import Label, Rel


class Agreements:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def register(self, principal: Principal, payload: dict[str, Any]) -> SharingAgreement:
        """Record an agreement that already exists (an admin's import of signed paper agreements).

        Args:
            payload: the SharingAgreement's fields; `id` is generated when absent.
        Returns:
            The agreement as stored, linked to its provider, recipient and covered datasets.
        """
        # created_at is when the catalog learned of it, not something the importer may backdate.
        payload = {"id": self.ctx.new_id("agr"), **payload, "created_at": self.ctx.clock()}
        agreement = parse_model(SharingAgreement, payload)
        self._check(agreement)
        self.ctx.gate.authorize(principal, "register_agreement", {"agency_id": agreement.provider_agency_id})

        def work(tx: GraphTx) -> SharingAgreement:
            props = to_props(agreement)
            tx.create_node(Label.AGREEMENT, agreement.id, props)
            link(tx, Rel.PROVIDER, agreement.id, agreement.provider_agency_id, field="provider_agency_id")
            link(tx, Rel.RECIPIENT, agreement.id, agreement.recipient_agency_id, field="recipient_agency_id")
            for i, dataset_id in enumerate(agreement.dataset_ids):
                link(tx, Rel.COVERS, agreement.id, dataset_id, field=f"dataset_ids.{i}")
            append_event(
                tx,
                principal=principal,
                action="register_agreement",
                target_ids=[
                    agreement.id,
                    agreement.provider_agency_id,
                    agreement.recipient_agency_id,
                    *agreement.dataset_ids,
                ],
                change=diff(None, props),
                at=self.ctx.clock(),
            )
            return agreement

        return self.ctx.store.write(work)

    def get(self, id: str) -> SharingAgreement:
        props = self.ctx.store.read(lambda tx: tx.get_node(Label.AGREEMENT, id))
        if props is None:
            raise NotFound("SharingAgreement", id)
        return from_props(SharingAgreement, props)

    def _check(self, agreement: SharingAgreement) -> None:
        """What the model alone cannot say: the configured vocabularies and a coherent scope."""
        purposes = self.ctx.settings.purposes
        if agreement.purpose not in purposes:
            raise InvalidInput("purpose", f"must be one of {', '.join(purposes)}")
        scheme = self.ctx.settings.classifications
        if agreement.max_classification not in scheme:
            raise InvalidInput("max_classification", f"must be one of {', '.join(scheme)}")
        if not agreement.dataset_ids:
            raise InvalidInput("dataset_ids", "must name at least one dataset")
        if agreement.valid_until <= agreement.valid_from:
            raise InvalidInput("valid_until", "must be after valid_from")
