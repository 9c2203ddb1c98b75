"""Full checkAccess (graph reads, the decision, and recording it with its audit event), on a generated landscape.

Analysts of agencies that receive data under sharing agreements ask for the datasets those agreements cover,
for RESEARCH in a secure enclave, through the service layer. The landscape's datasets differ in purposes,
lawful basis, classification and personal data, and its agreements in their limits, so some requests are
permitted and others refused; every one is decided and recorded.

Baseline, measured in the same run: the same graph reads alone in a read transaction, so the table shows what
deciding and recording cost on top of fetching the attributes.

    python -m bench.check_access --size S
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from datetime import timedelta
from itertools import cycle
from pathlib import Path

from bench.backends import BACKENDS, loaded
from bench.landscape import Landscape, generate
from bench.measure import Figure, figure, print_table, timed
from catalog.config import load_settings
from catalog.domain import AccessRequest, utcnow
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.base import GraphStore
from catalog.store.schema import Label

TARGETS = {"sqlite": "p50 <= 2 ms", "neo4j": "p50 <= 5 ms"}
REQUESTS = 50


Ask = tuple[Principal, dict[str, str], AccessRequest]


def analysts_asking(services: Services, land: Landscape, count: int = REQUESTS) -> list[Ask]:
    """`count` requests by recipient agencies' analysts (registered here, trained) for datasets shared with them."""
    agreements = sorted(land.nodes[Label.AGREEMENT].items())
    active = [(props["recipient_agency_id"], props["dataset_ids"][0]) for _, props in agreements
              if props["status"] == "ACTIVE"][:count]
    now = utcnow()
    principals: dict[str, Principal] = {}
    agencies = sorted({agency for agency, _ in active})
    known = services.reads.persons_by_ids(SYSTEM, [f"bench.analyst.{agency}" for agency in agencies])
    for agency in agencies:
        person = known.get(f"bench.analyst.{agency}") or services.registration.register_person(
            SYSTEM, {"id": f"bench.analyst.{agency}", "name": f"Analyst of {agency}", "agency_id": agency,
                     "roles": ["ANALYST"]})
        services.registration.record_training(
            SYSTEM, person.id, {"completed_at": now - timedelta(days=30), "expires_at": now + timedelta(days=300)})
        principals[agency] = Principal.acting_as(person)
    payloads = [(agency, {"dataset_id": dataset, "purpose": "RESEARCH", "access_method": "SECURE_ENCLAVE"})
                for agency, dataset in active]
    return [(principals[agency], payload, services.access._request(payload)) for agency, payload in payloads]


def measure(store: GraphStore, land: Landscape, iterations: int) -> Figure:
    """checkAccess on a store holding `land`, beside the same graph reads alone."""
    services = Services(store, load_settings(policy_reload_interval_s=0))
    asks = analysts_asking(services, land)
    outcomes = Counter(services.access.check(principal, payload).outcome.value for principal, payload, _ in asks)
    reads, checks = cycle(asks), cycle(asks)

    def reads_only() -> None:
        principal, _, request = next(reads)
        store.read(lambda tx: services.access.gather(tx, principal, request, services.ctx.clock()))

    def check() -> None:
        principal, payload, _ = next(checks)
        services.access.check(principal, payload)

    base = figure("graph reads only", store.backend, *timed(reads_only, iterations=iterations))
    return figure("checkAccess (decide + record)", store.backend, *timed(check, iterations=iterations),
                  baseline="same graph reads only", baseline_p50_ms=base.p50_ms, target=TARGETS[store.backend],
                  notes={"requests": len(asks), "outcomes": dict(outcomes)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S", choices=["S", "M", "L"])
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument("--iterations", type=int, default=500)
    args = parser.parse_args()
    land = generate(args.size)
    figures = []
    for backend in args.backend or BACKENDS:
        with tempfile.TemporaryDirectory() as tmp, loaded(backend, land, args.size, Path(tmp)) as (store, _):
            figures.append(measure(store, land, args.iterations))
    print_table(figures, f"checkAccess end to end in the service layer, size {args.size}")


if __name__ == "__main__":
    main()
