"""GraphQL types for the sharing workflow: share requests, approvals and sharing agreements.

Related objects resolve through per-request batch loaders, so a page of requests or agreements costs a fixed
number of store round trips, not one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import graphene
from graphene.utils.dataloader import DataLoader

from catalog import domain
from catalog.api import types
from catalog.api.context import call, request_context
from catalog.api.decision_types import Decision
from catalog.api.types import AccessMethod, Agency, Dataset, LegalBasis, Person, related

AgreementStatus = graphene.Enum.from_enum(domain.AgreementStatus)
ShareRequestStatus = graphene.Enum.from_enum(domain.ShareRequestStatus)
ApprovalVerdict = graphene.Enum.from_enum(domain.ApprovalVerdict)
SharingFrequency = graphene.Enum.from_enum(domain.SharingFrequency)
RequiredApprovalKind = graphene.Enum(
    "RequiredApprovalKind",
    [("STEWARD", "steward"), ("SECOND_APPROVER", "second-approver")],
    description="A steward of the dataset, or a second approver of the providing agency (four eyes).",
)


def loader(
    info: graphene.ResolveInfo, name: str, fetch: Callable[[list[str]], dict[str, Any]], default: Any = None
) -> DataLoader:
    """This request's batch loader `name`, kept with the request's own loaders so each is built once."""
    return request_context(info).batch_loader(name, fetch, default)


async def _decisions(info: graphene.ResolveInfo, ids: Sequence[str]) -> list[domain.Decision]:
    context = request_context(info)
    fetch = partial(context.services.sharing.decisions_by_ids, context.principal)
    found = await loader(info, "sharing.decisions", fetch).load_many(list(ids))
    return [d for d in found if d is not None]


async def _approvals(info: graphene.ResolveInfo, request_id: str | None) -> list[domain.Approval]:
    if not request_id:
        return []
    sharing = request_context(info).services.sharing
    found: list[domain.Approval] = await loader(info, "sharing.approvals", sharing.approvals_of, []).load(request_id)
    return found


async def _visible_datasets(info: graphene.ResolveInfo, ids: Sequence[str]) -> list[domain.Dataset]:
    found = await request_context(info).loader("dataset").load_many(list(ids))
    return [d for d in found if d is not None]


class Approval(graphene.ObjectType):
    class Meta:
        description = "One approver's verdict on a share request, with the policy decisions that allowed it."

    id = graphene.ID(required=True)
    approver_id = graphene.ID(required=True)
    approver = graphene.Field(Person)
    verdict = graphene.Field(ApprovalVerdict, required=True)
    fills = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="The required approvals this verdict fills."
    )
    note = graphene.String(required=True, description="The approver's note; for a rejection, the reason.")
    conditions = graphene.List(graphene.NonNull(graphene.String), required=True)
    at = graphene.DateTime(required=True)
    decisions = graphene.List(graphene.NonNull(Decision), required=True, description="One per dataset.")

    resolve_approver = related("person", "approver_id")

    @staticmethod
    async def resolve_decisions(approval: domain.Approval, info: graphene.ResolveInfo) -> list[domain.Decision]:
        return await _decisions(info, approval.decision_ids)


class RequiredApproval(graphene.ObjectType):
    class Meta:
        description = "An approval a share request needs before an agreement is made, and who gave it."

    requirement = graphene.String(required=True, description="`steward:<dataset id>` or `second-approver:<agency id>`.")
    kind = graphene.Field(RequiredApprovalKind, required=True)
    dataset_id = graphene.ID(description="For a steward approval: the dataset.")
    agency_id = graphene.ID(description="For the second approval: the providing agency.")
    filled_by = graphene.ID(description="The approver whose verdict filled it; null while it is open.")


def _required(request: domain.ShareRequest, approvals: list[domain.Approval]) -> list[dict[str, Any]]:
    filled = {r: a.approver_id for a in approvals for r in a.fills}
    rows = []
    for requirement in request.required_approvals:
        kind, _, target = requirement.partition(":")
        rows.append(
            {
                "requirement": requirement,
                "kind": kind,
                "dataset_id": target if kind == "steward" else None,
                "agency_id": target if kind != "steward" else None,
                "filled_by": filled.get(requirement),
            }
        )
    return rows


class AgreementParticulars(graphene.ObjectType):
    class Meta:
        description = (
            "What the public registers of agreements (UK DEA, Ireland DSGA, Australia DATA Scheme) name that the "
            "terms do not hold. Optional; asked for with the share request and kept with its agreement. Empty "
            "strings and nulls mean not given."
        )

    title = graphene.String(required=True, description="A short public name for the share.")
    summary = graphene.String(required=True, description="A public description of the project or share.")
    expected_benefits = graphene.String(required=True, description="The benefits the share is expected to bring.")
    function = graphene.String(required=True, description="The provider's function the purpose relates to.")
    further_processing = graphene.String(
        required=True, description="How the data is processed after disclosure, and the basis for any further use."
    )
    frequency = graphene.Field(SharingFrequency, description="Once-off or ongoing disclosure.")
    dpia_summary = graphene.String(required=True, description="A summary of the data protection impact assessment.")
    security_measures = graphene.String(
        required=True, description="The security measures, described so as not to compromise them."
    )
    retention = graphene.String(required=True, description="How long the data and its results are kept.")
    review_date = graphene.DateTime(description="When the parties next review the agreement.")


class ShareRequest(graphene.ObjectType):
    class Meta:
        description = "A partner agency's request for a share, with the policy decisions on it."

    id = graphene.ID(required=True)
    requester_id = graphene.ID(required=True)
    requester = graphene.Field(Person)
    recipient_agency_id = graphene.ID(required=True)
    recipient = graphene.Field(Agency)
    provider_agency_id = graphene.ID()
    provider = graphene.Field(Agency)
    dataset_ids = graphene.List(graphene.NonNull(graphene.ID), required=True)
    datasets = graphene.List(graphene.NonNull(Dataset), required=True, description="Those visible to you.")
    purpose = graphene.String(required=True)
    legal_basis = graphene.Field(LegalBasis, required=True)
    access_method = graphene.Field(AccessMethod, required=True)
    fields = graphene.List(graphene.NonNull(graphene.String), required=True)
    justification = graphene.String(required=True)
    valid_from = graphene.DateTime(required=True)
    valid_until = graphene.DateTime(required=True)
    status = graphene.Field(ShareRequestStatus, required=True)
    status_reason = graphene.String(description="Why it was denied or rejected (every failing dataset's reason).")
    required_approvals = graphene.List(graphene.NonNull(RequiredApproval), required=True)
    approvals = graphene.List(graphene.NonNull(Approval), required=True)
    decisions = graphene.List(
        graphene.NonNull(Decision), required=True, description="The request_share decisions, one per dataset."
    )
    agreement_id = graphene.ID()
    agreement = graphene.Field(lambda: SharingAgreement)
    particulars = graphene.Field(AgreementParticulars, required=True, description="For the public register.")
    version = graphene.Int(required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime()

    resolve_requester = related("person", "requester_id")
    resolve_recipient = related("agency", "recipient_agency_id")
    resolve_provider = related("agency", "provider_agency_id")

    @staticmethod
    async def resolve_datasets(request: domain.ShareRequest, info: graphene.ResolveInfo) -> list[domain.Dataset]:
        return await _visible_datasets(info, request.dataset_ids)

    @staticmethod
    async def resolve_required_approvals(request: domain.ShareRequest, info: graphene.ResolveInfo) -> list[Any]:
        return _required(request, await _approvals(info, request.id))

    @staticmethod
    async def resolve_approvals(request: domain.ShareRequest, info: graphene.ResolveInfo) -> list[domain.Approval]:
        return await _approvals(info, request.id)

    @staticmethod
    async def resolve_decisions(request: domain.ShareRequest, info: graphene.ResolveInfo) -> list[domain.Decision]:
        return await _decisions(info, request.decision_ids)

    @staticmethod
    async def resolve_agreement(request: domain.ShareRequest, info: graphene.ResolveInfo) -> Any:
        return await agreement_loader(info).load(request.agreement_id) if request.agreement_id else None


class SharingAgreement(graphene.ObjectType):
    class Meta:
        description = (
            "What one agency shares with another, on which terms, until when. `status` is as of now: an agreement "
            "past its validUntil reads as EXPIRED."
        )

    id = graphene.ID(required=True)
    provider_agency_id = graphene.ID(required=True)
    provider = graphene.Field(Agency)
    recipient_agency_id = graphene.ID(required=True)
    recipient = graphene.Field(Agency)
    dataset_ids = graphene.List(graphene.NonNull(graphene.ID), required=True)
    datasets = graphene.List(graphene.NonNull(Dataset), required=True, description="Those visible to you.")
    approved_fields = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="The only fields it shares (minimisation)."
    )
    purpose = graphene.String(required=True)
    legal_basis = graphene.Field(LegalBasis, required=True)
    access_method = graphene.Field(AccessMethod, required=True)
    max_classification = graphene.String(required=True)
    max_personal_data = graphene.Field(types.PersonalData, required=True)
    allows_identified = graphene.Boolean(required=True)
    conditions = graphene.List(graphene.NonNull(graphene.String), required=True)
    obligations = graphene.List(graphene.NonNull(graphene.String), required=True)
    valid_from = graphene.DateTime(required=True)
    valid_until = graphene.DateTime(required=True)
    status = graphene.Field(AgreementStatus, required=True)
    status_reason = graphene.String()
    particulars = graphene.Field(
        AgreementParticulars, required=True, description="What the public register names; from the share request."
    )
    version = graphene.Int(required=True, description="Goes up by one with every change of state or window.")
    share_request_id = graphene.ID(description="The request it resulted from; null for an imported agreement.")
    share_request = graphene.Field(ShareRequest)
    approvals = graphene.List(graphene.NonNull(Approval), required=True)
    decisions = graphene.List(
        graphene.NonNull(Decision),
        required=True,
        description="Every decision that made or changed it: request, approvals, suspensions, renewals, revocation.",
    )
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime()
    odrl = graphene.String(
        required=True,
        base_url=graphene.String(description="Base of the IRIs in the document (default: http://CATALOG_HOST:PORT)."),
        description="The agreement as a W3C ODRL 2.2 Agreement: a JSON-LD document, as a string (also at "
        "GET /agreements/ID.odrl.jsonld). Purpose and legal basis are DPV terms (see `vocabulary`).",
    )

    @staticmethod
    async def resolve_odrl(
        agreement: domain.SharingAgreement, info: graphene.ResolveInfo, base_url: str | None = None
    ) -> str:
        context = request_context(info)
        settings = context.services.ctx.settings
        base = base_url or settings.own_url()
        # Asked again through the read decision, not taken from the parent: the document never outruns read_agreement.
        return await call(context.services.odrl.agreement, context.principal, agreement.id, base)

    resolve_provider = related("agency", "provider_agency_id")
    resolve_recipient = related("agency", "recipient_agency_id")

    @staticmethod
    async def resolve_datasets(agreement: domain.SharingAgreement, info: graphene.ResolveInfo) -> list[Any]:
        return await _visible_datasets(info, agreement.dataset_ids)

    @staticmethod
    async def resolve_share_request(agreement: domain.SharingAgreement, info: graphene.ResolveInfo) -> Any:
        if not agreement.share_request_id:
            return None
        context = request_context(info)
        sharing, principal = context.services.sharing, context.principal
        requests = loader(info, "sharing.requests", lambda ids: sharing.requests_by_ids(principal, ids))
        return await requests.load(agreement.share_request_id)

    @staticmethod
    async def resolve_approvals(agreement: domain.SharingAgreement, info: graphene.ResolveInfo) -> list[Any]:
        return await _approvals(info, agreement.share_request_id)

    @staticmethod
    async def resolve_decisions(agreement: domain.SharingAgreement, info: graphene.ResolveInfo) -> list[Any]:
        return await _decisions(info, agreement.decision_ids)


def agreement_loader(info: graphene.ResolveInfo) -> DataLoader:
    context = request_context(info)
    agreements, principal = context.services.agreements, context.principal
    return loader(info, "sharing.agreements", lambda ids: agreements.by_ids(principal, ids))


ShareRequestConnection = types.connection_type(ShareRequest, "ShareRequest")
SharingAgreementConnection = types.connection_type(SharingAgreement, "SharingAgreement")
