"""Sharing agreements as W3C ODRL 2.2 Agreements in JSON-LD, for dataspaces and registers that read ODRL.

One permission, `odrl:use`, from the provider agency (assigner) to the recipient agency (assignee) on the covered
datasets (targets), constrained as the catalog enforces it: the purpose as its DPV term (`odrl:purpose`), the
access method (`odrl:deliveryChannel`), the approved fields and the validity window (`odrl:dateTime`: from
`validFrom`, strictly before `validUntil`, as the agreement reads EXPIRED from that instant). The obligations
become the permission's duties. The lawful basis is stated with `dpv:hasLegalBasis`.

ODRL has no left operand for columns and no actions for these obligations, so they are terms of this catalog's
own profile, `BASE/ns`, as in the PROV export. The @context is inline: a reader needs no network to parse it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from catalog.domain import SharingAgreement, is_http_url
from catalog.errors import InvalidInput
from catalog.policy.vocabulary import Vocabulary
from catalog.principal import ANONYMOUS, Principal
from catalog.services.agreements import Agreements
from catalog.services.context import ServiceContext
from catalog.services.decisions import Offer
from catalog.store.base import GraphTx
from catalog.store.records import timestamp
from catalog.store.schema import Label

ODRL = "http://www.w3.org/ns/odrl/2/"
DPV = "https://w3id.org/dpv#"
CONTEXT: dict[str, Any] = {
    "odrl": ODRL,
    "dpv": DPV,
    "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
MEDIA_TYPE = "application/ld+json"


class OdrlIris:
    """The IRIs of the catalog's records and profile terms under one base URL."""

    def __init__(self, base_url: str) -> None:
        if not is_http_url(base_url):  # every IRI is made from it
            raise InvalidInput("base_url", "must be an absolute http(s) URL")
        self.base = base_url.rstrip("/")

    def record(self, kind: str, id: str) -> str:
        return f"{self.base}/{kind}/{quote(id, safe='')}"

    @property
    def profile(self) -> str:
        return f"{self.base}/ns"

    def term(self, name: str) -> str:
        return f"{self.profile}#{name}"


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def constraint(left: str, operator: str, right: Any) -> dict[str, Any]:
    return {
        "@type": "odrl:Constraint",
        "odrl:leftOperand": _ref(left),
        "odrl:operator": _ref(ODRL + operator),
        "odrl:rightOperand": right,
    }


def _when(at: Any) -> dict[str, str]:
    return {"@value": timestamp(at), "@type": "xsd:dateTime"}


def agreement_document(agreement: SharingAgreement, vocabulary: Vocabulary, base_url: str) -> dict[str, Any]:
    """The agreement as an ODRL 2.2 Agreement (a JSON-LD document with its context inline)."""
    iris = OdrlIris(base_url)
    constraints = [
        constraint(ODRL + "purpose", "eq", _ref(purpose_iri(agreement.purpose, vocabulary, iris))),
        constraint(ODRL + "deliveryChannel", "eq", agreement.access_method.value),
        constraint(ODRL + "dateTime", "gteq", _when(agreement.valid_from)),
        constraint(ODRL + "dateTime", "lt", _when(agreement.valid_until)),
    ]
    if agreement.approved_fields:
        constraints.append(constraint(iris.term("field"), "isAnyOf", list(agreement.approved_fields)))
    duties = [_duty(iris, obligation) for obligation in agreement.obligations]
    permission: dict[str, Any] = {
        "@type": "odrl:Permission",
        "odrl:target": [_ref(iris.record("datasets", id)) for id in agreement.dataset_ids],
        "odrl:action": _ref(ODRL + "use"),
        "odrl:assigner": _ref(iris.record("agencies", agreement.provider_agency_id)),
        "odrl:assignee": _ref(iris.record("agencies", agreement.recipient_agency_id)),
        "odrl:constraint": constraints,
    }
    if duties:
        permission["odrl:duty"] = duties
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": iris.record("agreements", agreement.id),
        "@type": "odrl:Agreement",
        "odrl:profile": _ref(iris.profile),
        "dpv:hasLegalBasis": _ref(vocabulary.legal_basis(agreement.legal_basis.article6.value).iri),
        "dct:issued": _when(agreement.created_at),
        "odrl:permission": [permission],
    }
    return document


def purpose_iri(purpose: str, vocabulary: Vocabulary, iris: OdrlIris) -> str:
    """The purpose's DPV term; one no longer configured (so never mapped) keeps a term of the catalog's profile."""
    try:
        return vocabulary.purpose(purpose).iri
    except KeyError:
        return iris.term(f"purpose-{quote(purpose, safe='')}")


def duty_terms(iris: OdrlIris, obligation: str) -> tuple[str, str]:
    """An obligation (`id: text`, as the policy words it) as a duty: the action, a term of the catalog's profile
    named after the obligation's id, and the obligation's text."""
    id, _, text = obligation.partition(":")
    return iris.term(f"obligation-{quote(id.strip(), safe='')}"), text.strip()


def _duty(iris: OdrlIris, obligation: str) -> dict[str, Any]:
    action, text = duty_terms(iris, obligation)
    duty: dict[str, Any] = {"@type": "odrl:Duty", "odrl:action": _ref(action)}
    if text:
        duty["dct:description"] = text
    return duty


class Odrl:
    """ODRL documents of what the caller may read, and the offers the policy would make on public datasets."""

    def __init__(self, ctx: ServiceContext, agreements: Agreements, vocabulary: Vocabulary) -> None:
        self.ctx = ctx
        self.agreements = agreements
        self.vocabulary = vocabulary

    def offers(self, dataset_ids: Sequence[str]) -> dict[str, Offer]:
        """What the access policy would grant on each of `dataset_ids` that anonymous readers may see (others are
        left out: an offer describes the dataset it is made on)."""
        now = self.ctx.clock()

        def work(tx: GraphTx) -> dict[str, Offer]:
            visible = self.ctx.decisions.visible(tx, ANONYMOUS, Label.DATASET, dataset_ids)
            facts = self.ctx.decisions.datasets(tx, list(visible))
            return {id: self.ctx.decisions.offer(found, now) for id, found in facts.items()}

        return self.ctx.store.read(work)

    def agreement(self, principal: Principal, agreement_id: str, base_url: str) -> str:
        """The agreement as ODRL JSON-LD. NotFound, alike, when it does not exist or `principal` may not read it."""
        OdrlIris(base_url)  # a bad base URL is named before anything is read
        agreement = self.agreements.get(principal, agreement_id)
        return json.dumps(agreement_document(agreement, self.vocabulary, base_url), indent=2)
