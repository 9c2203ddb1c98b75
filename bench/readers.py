"""Who the read benchmarks read as: the bench analyst (an agency's analyst, registered in the landscape), the
datasets from all over the landscape that it may see, and the filters its list asks with."""

from __future__ import annotations

import random

from bench.landscape import Landscape
from catalog.domain import Person, Role
from catalog.principal import Principal
from catalog.services import Services
from catalog.store.schema import Label

ANALYST_AGENCY = "agency-001"


def analyst() -> Person:
    return Person(id="bench.analyst", name="Bench Analyst", agency_id=ANALYST_AGENCY, roles=[Role.ANALYST])


def visible_sample(services: Services, land: Landscape, count: int = 500) -> list[str]:
    """Datasets from all over the landscape that the analyst may see (the ones `dataset(id)` asks for)."""
    principal = Principal.acting_as(analyst())
    ids = random.Random(11).sample(sorted(land.nodes[Label.DATASET]), min(count, len(land.nodes[Label.DATASET])))
    return sorted(services.reads.datasets_by_ids(principal, ids))


def other_agency(land: Landscape) -> str:
    """An agency from the middle of the landscape: the list's filter by an agency not the analyst's own."""
    return f"agency-{len(land.nodes[Label.AGENCY]) // 2:03d}"
