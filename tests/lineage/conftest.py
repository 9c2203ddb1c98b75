"""A small landscape on each backend (health, stats, uni, city), people to act as, and a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.config import load_settings
from catalog.domain import Dataset, Identifiability, Process, utcnow
from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from catalog.store.base import GraphStore, Props
from catalog.store.schema import Label, Rel
from tests.support import app
from tests.support.people import Roster, register_trained

# The app in process, and tokens for its people: fixtures offered to this folder, on its `services`.
client, token = app.client, app.token

PEOPLE: Roster = {
    "owner.health": ("health", ["DATA_OWNER"]),
    "steward.health": ("health", ["STEWARD"]),
    "steward.stats": ("stats", ["STEWARD"]),
    "analyst.uni": ("uni", ["ANALYST"]),
    "analyst.city": ("city", ["ANALYST"]),
    "auditor": ("stats", ["AUDITOR"]),
}


@pytest.fixture
def services(store: GraphStore) -> Services:
    built = Services(store, load_settings(policy_reload_interval_s=0))
    for agency in ("health", "stats", "uni", "city"):
        built.registration.register_agency(SYSTEM, {"id": agency, "name": f"Agency {agency}"})
    register_trained(built, PEOPLE)
    return built


def acting(services: Services, person_id: str) -> Principal:
    found = services.reads.person(SYSTEM, person_id)
    return Principal(found.id, found.agency_id, frozenset(found.roles))


def dataset(
    services: Services,
    id: str,
    *,
    owner: str = "health",
    classification: str = "OFFICIAL",
    personal_data: str = "NONE",
    **extra: Any,
) -> Dataset:
    payload = {
        "id": id,
        "title": id,
        "owner_agency_id": owner,
        "classification": classification,
        "personal_data": personal_data,
        **extra,
    }
    return services.registration.register_dataset(SYSTEM, payload)


def derive(
    services: Services, process_id: str, inputs: list[str], outputs: list[str], kind: str = "TRANSFORM", **extra: Any
) -> Process:
    payload = {"id": process_id, "name": process_id, "kind": kind, "inputs": inputs, "outputs": outputs, **extra}
    return services.lineage.record(SYSTEM, payload)


def attest(
    services: Services, process_id: str, identifiability: Identifiability | str, note: str = "checked"
) -> Process:
    """Attest a process as a steward of its outputs, someone other than whoever recorded the run (separation of
    duties). The attester, `attester.<agency>`, is registered and named steward the first time."""
    outputs = services.store.read(lambda tx: tx.neighbors(Rel.GENERATED_BY, [process_id], "in"))[process_id]
    owners = {services.reads.dataset(SYSTEM, output).owner_agency_id for output in outputs}
    assert len(owners) == 1, f"one steward can attest outputs of one agency, not {owners}"
    steward = f"attester.{owners.pop()}"
    if not services.reads.persons_by_ids(SYSTEM, [steward]):
        agency = steward.removeprefix("attester.")
        services.registration.register_person(
            SYSTEM, {"id": steward, "name": steward.title(), "agency_id": agency, "roles": ["STEWARD"]}
        )
    for output in outputs:
        services.registration.assign_steward(SYSTEM, output, steward)
    return services.lineage.attest(acting(services, steward), process_id, Identifiability(identifiability), note)


def agreement(services: Services, provider: str, recipient: str, covered: str, *, id: str | None = None) -> None:
    """An active research agreement, from yesterday for 100 days: `provider` shares `covered` with `recipient`.
    Its id is `agr.<recipient>.<covered>` unless given."""
    now = utcnow()
    services.agreements.register(
        SYSTEM,
        {
            "id": id or f"agr.{recipient}.{covered}",
            "provider_agency_id": provider,
            "recipient_agency_id": recipient,
            "dataset_ids": [covered],
            "purpose": "RESEARCH",
            "legal_basis": {"article6": "PUBLIC_TASK"},
            "access_method": "SECURE_ENCLAVE",
            "max_classification": "PROTECTED",
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=100),
        },
    )


def stored(services: Services, dataset_id: str) -> Props:
    props = services.store.read(lambda tx: tx.get_node(Label.DATASET, dataset_id))
    assert props is not None
    return props


def effective(services: Services, dataset_id: str) -> tuple[str, str, str | None]:
    props = stored(services, dataset_id)
    return props["effective_classification"], props["effective_personal_data"], props.get("restricted_by")


@pytest.fixture
def gql(client: TestClient, token: Callable[[str], str]) -> Callable[..., dict[str, Any]]:
    def run(query: str, variables: dict[str, Any] | None = None, *, as_: str = "auditor") -> dict[str, Any]:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token(as_)}"},
        )
        body: dict[str, Any] = response.json()
        return body

    return run


@dataclass
class Receiver:
    """A real loopback HTTP server standing in for agencies' webhooks.

    `/ok/...` answers 200; `/down/...` answers 503 every time; `/flaky/...` answers 503 once, then 200.
    """

    base_url: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            with lock:
                state.hits[self.path] = state.hits.get(self.path, 0) + 1
                hits = state.hits[self.path]
                ok = self.path.startswith("/ok") or (self.path.startswith("/flaky") and hits > 1)
                if ok:
                    state.received.append((self.path, body))
            self.send_response(200 if ok else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
