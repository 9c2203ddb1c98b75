"""Root fields for the sharing workflow: ask for a share, decide on it, keep the agreement, read the register."""

from __future__ import annotations

from typing import Any

import graphene

from catalog import domain
from catalog.api import inputs, types
from catalog.api.context import call, request_context
from catalog.api.operations import ServiceMutation, by_id, filtered_list, list_by, service_mutation
from catalog.api.sharing_types import (
    AgreementStatus,
    ShareRequest,
    ShareRequestConnection,
    ShareRequestStatus,
    SharingAgreement,
    SharingAgreementConnection,
    SharingFrequency,
)
from catalog.services import AgreementFilter, ShareRequestFilter


class AgreementParticularsInput(graphene.InputObjectType):
    class Meta:
        description = (
            "Optional particulars a public register of agreements names. They are published as written: never "
            "name or describe a person here."
        )

    title = graphene.String()
    summary = graphene.String()
    expected_benefits = graphene.String()
    function = graphene.String(description="The provider's function the purpose relates to.")
    further_processing = graphene.String()
    frequency = graphene.InputField(SharingFrequency)
    dpia_summary = graphene.String()
    security_measures = graphene.String(description="Described so as not to compromise them.")
    retention = graphene.String()
    review_date = graphene.DateTime()


class RequestShareInput(graphene.InputObjectType):
    dataset_ids = graphene.List(
        graphene.NonNull(graphene.ID), required=True, description="Datasets of one providing agency."
    )
    recipient_agency_id = graphene.ID(required=True, description="Your agency: the one that would receive the data.")
    purpose = graphene.String(required=True, description="One of the configured purposes.")
    legal_basis = graphene.InputField(inputs.LegalBasisInput, required=True)
    access_method = graphene.InputField(types.AccessMethod, required=True)
    fields = graphene.List(
        graphene.NonNull(graphene.String), description="The fields you need (data minimisation); empty means all."
    )
    justification = graphene.String()
    valid_from = graphene.DateTime(description="Default: now.")
    valid_until = graphene.DateTime(required=True)
    particulars = graphene.InputField(
        AgreementParticularsInput, description="For the public register; the agreement keeps them."
    )


class ShareRequestFilterInput(graphene.InputObjectType):
    requester = graphene.ID()
    recipient = graphene.ID(description="The recipient agency.")
    provider = graphene.ID(description="The providing agency.")
    dataset = graphene.ID()
    status = graphene.InputField(ShareRequestStatus)


class AgreementFilterInput(graphene.InputObjectType):
    provider = graphene.ID(description="The providing agency.")
    recipient = graphene.ID(description="The recipient agency.")
    dataset = graphene.ID(description="A dataset the agreement covers.")
    status = graphene.InputField(AgreementStatus, description="The status as of now (expiry included).")
    expiring_before = graphene.DateTime(description="Only agreements whose validUntil is before this time.")


class SharingQuery(graphene.ObjectType):
    agreement = by_id(
        SharingAgreement,
        "agreements.get",
        "An agreement with its decisions, approvals and datasets. NOT_FOUND unless your agency is a party to it "
        "(auditors see all).",
    )
    agreements = filtered_list(
        SharingAgreementConnection,
        AgreementFilterInput,
        AgreementFilter,
        "agreements.list",
        "Agreements your agency is a party to (auditors see all), ordered by id.",
    )
    agreement_register = list_by(
        SharingAgreementConnection,
        "agreements.current_register",
        "The agency's central log of current sharing agreements (UK ICO data sharing code): every ACTIVE or "
        "SUSPENDED agreement it provides or receives under, as of now.",
        agency_id=graphene.ID(required=True),
    )
    share_request = by_id(ShareRequest, "sharing.get")
    share_requests = filtered_list(
        ShareRequestConnection,
        ShareRequestFilterInput,
        ShareRequestFilter,
        "sharing.requests",
        "Your requests and those your agency receives or provides (auditors see all), oldest first.",
    )


class ApproveShare(graphene.Mutation):
    class Meta:
        description = (
            "Approve a pending request as its steward or second approver (the policy decides who may). When the "
            "last required approval is in, the agreement is made. FORBIDDEN (with the recorded decisions) when "
            "you may not; CONFLICT when it is not pending or needs no approval you can give."
        )

    class Arguments:
        request_id = graphene.ID(required=True)
        note = graphene.String()
        conditions = graphene.List(graphene.NonNull(graphene.String), description="Conditions the agreement adds.")

    Output = graphene.NonNull(ShareRequest)

    @staticmethod
    async def mutate(
        root: Any, info: graphene.ResolveInfo, request_id: str, note: str | None = None, conditions: Any = None
    ) -> domain.ShareRequest:
        context = request_context(info)
        return await call(context.services.sharing.approve, context.principal, request_id, note or "", conditions or [])


# A lifecycle change of an agreement: decided by policy and recorded; CONFLICT names the current status.
_Transition = ServiceMutation.family(
    SharingAgreement, id=graphene.ID(required=True), reason=graphene.String(required=True)
)


class SharingMutation(graphene.ObjectType):
    request_share = service_mutation(
        "sharing.request",
        ShareRequest,
        "Ask another agency for a share. Recorded with one policy decision per dataset: DENIED (statusReason "
        "and decisions say why) or PENDING_APPROVAL (requiredApprovals say whose).",
        input=RequestShareInput(required=True),
    )
    approve_share = ApproveShare.Field()
    reject_share = service_mutation(
        "sharing.reject",
        ShareRequest,
        "Reject a pending request, saying why. Final.",
        request_id=graphene.ID(required=True),
        reason=graphene.String(required=True),
    )
    suspend_agreement = _Transition.field(
        "agreements.suspend", "ACTIVE -> SUSPENDED: no access under it until it is resumed."
    )
    resume_agreement = _Transition.field("agreements.resume", "SUSPENDED -> ACTIVE.")
    revoke_agreement = _Transition.field(
        "agreements.revoke",
        "ACTIVE, SUSPENDED or EXPIRED -> REVOKED, for good: access under it is then an explicit deny.",
    )
    renew_agreement = service_mutation(
        "agreements.renew",
        SharingAgreement,
        "Extend an ACTIVE or EXPIRED agreement to validUntil, as a new recorded decision. A renewal never lifts "
        "a suspension.",
        id=graphene.ID(required=True),
        valid_until=graphene.DateTime(required=True),
        reason=graphene.String(),
    )
