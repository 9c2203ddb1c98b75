"""The root field for the configured vocabularies and their standard (W3C DPV) terms, so clients stop hard-coding
purpose and legal-basis strings.

Anyone may read it, signed in or not, with no policy decision: it is the server's configuration (what
`policies/vocabulary.yaml` and the CATALOG_PURPOSES and CATALOG_CLASSIFICATIONS settings say), not one of the
catalog's records, which are all read under the policy.
"""

from __future__ import annotations

from typing import Any

import graphene

from catalog.api.context import request_context
from catalog.policy.vocabulary import Vocabulary as ConfiguredVocabulary


class VocabularyTerm(graphene.ObjectType):
    class Meta:
        description = "One value of a vocabulary: the id the API takes and returns, a label and its standard term."

    id = graphene.String(required=True, description="The value as the API takes it, e.g. RESEARCH or PUBLIC_TASK.")
    label = graphene.String(required=True)
    iri = graphene.String(required=True, description="The standard term: a W3C DPV IRI for purposes and legal bases.")


class Vocabulary(graphene.ObjectType):
    class Meta:
        description = "The configured vocabularies in their configured order (classifications least restrictive first)."

    purposes = graphene.List(graphene.NonNull(VocabularyTerm), required=True, description="Mapped with dpv:hasPurpose.")
    classifications = graphene.List(graphene.NonNull(VocabularyTerm), required=True)
    legal_bases = graphene.List(
        graphene.NonNull(VocabularyTerm),
        required=True,
        description="GDPR Art. 6(1) lawful bases, as terms of the DPV GDPR extension (dpv:hasLegalBasis).",
    )


class VocabularyQuery(graphene.ObjectType):
    vocabulary = graphene.Field(
        Vocabulary,
        required=True,
        description="Purposes, classifications and legal bases with their DPV IRIs. Public: it is configuration, "
        "not a catalog record.",
    )

    @staticmethod
    def resolve_vocabulary(root: Any, info: graphene.ResolveInfo) -> ConfiguredVocabulary:
        return request_context(info).services.vocabulary
