"""The public register of sharing agreements, on both backends: each scheme's header is that scheme's column set
(tests/standards/registers/*.columns.txt, sources cited there and in the README), only what an anonymous caller
may read is listed, the particulars asked for with a share request reach the register, and the CLI and HTTP
endpoints serve the same table.

The shipped policy lets no anonymous caller read an agreement, so the register is empty until a deployment adds
a rule; these tests add one (agreements the statistics office provides are public) to a copy of the policy."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.cli import cli
from catalog.domain import SharingAgreement
from catalog.principal import ANONYMOUS, SYSTEM, Principal
from catalog.services import Services
from catalog.services.agreements import AgreementFilter
from catalog.services.register import SCHEMES

COLUMNS = Path(__file__).with_name("registers")
FROM, UNTIL = datetime(2026, 1, 5, tzinfo=UTC), datetime(2027, 1, 5, tzinfo=UTC)
PARTICULARS = {
    "title": "Hospital activity for the population health centre",
    "summary": "Hospital activity tables feed the centre's study of admissions by region.",
    "expected_benefits": "Better planning of regional hospital capacity.",
    "function": "Publishing official statistics on hospital activity.",
    "further_processing": "Aggregated within the centre's enclave; no onward disclosure.",
    "frequency": "ONGOING",
    "dpia_summary": "Low risk: small cells are suppressed before release.",
    "security_measures": "Held in an accredited secure enclave.",
    "retention": "Two years after the project ends.",
    "review_date": datetime(2026, 7, 1, tzinfo=UTC),
}


def published_columns(scheme: str) -> list[str]:
    lines = (COLUMNS / f"{scheme}.columns.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture
def public(services: Services) -> SharingAgreement:
    """A stats agreement over two datasets: one anyone may see, one PROTECTED (hidden from anyone outside)."""
    return services.agreements.register(
        SYSTEM,
        {
            "id": "agr.stats-uni-activity",
            "provider_agency_id": "stats",
            "recipient_agency_id": "uni",
            "dataset_ids": ["stats.hospital-activity", "stats.health-housing-cohort"],
            "purpose": "RESEARCH",
            "legal_basis": {"article6": "PUBLIC_TASK", "statute": "Statistics Act s. 12"},
            "access_method": "SECURE_ENCLAVE",
            "valid_from": FROM,
            "valid_until": UNTIL,
            "particulars": PARTICULARS,
        },
    )


def table(services: Services, scheme: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(services.register.table(scheme).csv())))


# The column that names the agreement, in each scheme's own words (Australia's register puts the parties first).
ID_COLUMN = {"uk-dea": "Information sharing agreement 0001", "ie-dsga": "Agreement", "au-dat": "DSR Number"}


def row_of(services: Services, scheme: str, agreement_id: str) -> dict[str, str]:
    [row] = [row for row in table(services, scheme) if row[ID_COLUMN[scheme]] == agreement_id]
    return row


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_the_header_is_the_schemes_column_set(services: Services, public: SharingAgreement, scheme: str) -> None:
    rendered = services.register.table(scheme)

    assert next(csv.reader(io.StringIO(rendered.csv()))) == published_columns(scheme)
    assert json.loads(rendered.json())["columns"] == published_columns(scheme)
    assert rendered.rows and {len(row) for row in rendered.rows} == {len(published_columns(scheme))}


def test_the_uk_row_carries_the_agreement_and_its_particulars(services: Services, public: SharingAgreement) -> None:
    row = row_of(services, "uk-dea", public.id)

    assert row["Information sharing agreement 0001"] == public.id
    assert row["Name"] == PARTICULARS["title"]
    assert row["Purpose"] == PARTICULARS["summary"]
    assert row["Information sharing benefits"] == PARTICULARS["expected_benefits"]
    assert row["Legal power disclosure"] == "Statistics Act s. 12; GDPR Art. 6 public task"
    assert (
        row["Controller names"]
        == "National Statistics Office; Northbridge University, Centre for Population Health Research"
    )
    assert (row["Start date"], row["End date"], row["Review date"]) == ("2026-01-05", "2027-01-05", "2026-07-01")
    assert row["Contact"] == ""


def test_the_irish_and_australian_rows_carry_what_their_schemes_ask(
    services: Services, public: SharingAgreement
) -> None:
    ie, au = row_of(services, "ie-dsga", public.id), row_of(services, "au-dat", public.id)

    assert (ie["Once-off or ongoing"], ie["DPIA summary"]) == ("ONGOING", PARTICULARS["dpia_summary"])
    assert (ie["Security measures"], ie["Status"]) == (PARTICULARS["security_measures"], "ACTIVE")
    assert ie["Function of the public body"] == PARTICULARS["function"]
    assert (au["Lead Custodian"], au["Data sharing purpose"]) == ("National Statistics Office", "Research")
    assert au["Lead Requestor"] == "Northbridge University, Centre for Population Health Research"
    described = au["Project description and public interest statement"]
    assert described == f"{PARTICULARS['summary']} {PARTICULARS['expected_benefits']}"
    assert (au["DSR Number"], au["Expiry date"]) == (public.id, "2027-01-05")


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_agreement_is_listed_but_no_hidden_dataset_and_no_person(
    services: Services, public: SharingAgreement, scheme: str
) -> None:
    rendered = services.register.table(scheme)
    text = rendered.csv() + rendered.json()
    every = services.agreements.list(SYSTEM, AgreementFilter(), 100).items
    hidden = {
        d.id: d
        for d in services.reads.datasets_by_ids(SYSTEM, [i for a in every for i in a.dataset_ids]).values()
        if d.id not in services.reads.datasets_by_ids(ANONYMOUS, [d.id])
    }

    named = rendered.scheme.header.index(ID_COLUMN[scheme])
    assert sorted(row[named] for row in rendered.rows) == sorted(a.id for a in every)  # a register of every one
    assert "stats.health-housing-cohort" in hidden and "health.admissions" in hidden  # the test means something
    assert [d.id for d in hidden.values() if d.id in text or d.title in text] == []
    assert services.reads.datasets_by_ids(SYSTEM, ["stats.hospital-activity"])["stats.hospital-activity"].title in text
    people = services.reads.persons_by_ids(SYSTEM, ["priya.stats", "uma.uni", "hamid.health"])
    assert "@" not in text and [p.id for p in people.values() if p.id in text or p.name in text] == []


def test_a_register_entry_is_not_the_agreement(client: TestClient, public: SharingAgreement) -> None:
    query = '{ agreement(id: "ID") { id purpose } }'
    entry = client.get("/register.json", params={"scheme": "uk-dea"}).json()["entries"]
    listed = client.post("/graphql", json={"query": query.replace("ID", public.id)}).json()
    missing = client.post("/graphql", json={"query": query.replace("ID", "agr.none")}).json()

    assert public.id in [e["Information sharing agreement 0001"] for e in entry]
    assert listed["errors"][0]["extensions"]["code"] == missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert client.get(f"/agreements/{public.id}.odrl.jsonld").status_code == 404


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as client:
        yield client


def test_the_endpoints_serve_the_register_and_name_a_bad_scheme(
    client: TestClient, services: Services, public: SharingAgreement
) -> None:
    as_csv = client.get("/register.csv", params={"scheme": "ie-dsga"})
    as_json = client.get("/register.json", params={"scheme": "au-dat"})
    bad, missing = client.get("/register.csv", params={"scheme": "fr"}), client.get("/register.json")

    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text == services.register.table("ie-dsga").csv()
    assert public.id in [entry["DSR Number"] for entry in as_json.json()["entries"]]
    for response in (bad, missing):
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "BAD_USER_INPUT"
        assert error["message"].startswith("scheme: ") and "uk-dea, ie-dsga, au-dat" in error["message"]
        assert "Traceback" not in response.text


def test_particulars_asked_for_over_graphql_reach_the_agreement_and_the_register(
    client: TestClient, services: Services
) -> None:
    def post(person_id: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        token = issue_token(services.reads.person(SYSTEM, person_id), services.ctx.settings.auth)
        body = {"query": query, "variables": variables or {}}
        return client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"}).json()

    given = {**PARTICULARS, "reviewDate": "2026-07-01T00:00:00Z"}
    del given["review_date"]
    given = {_camel(k): v for k, v in given.items()}
    asked = post(
        "uma.uni",
        "mutation($input: RequestShareInput!) { requestShare(input: $input) { id status particulars { title } } }",
        {
            "input": {
                "datasetIds": ["stats.population-estimates"],
                "recipientAgencyId": "uni",
                "purpose": "RESEARCH",
                "legalBasis": {"article6": "PUBLIC_TASK", "statute": "Statistics Act s. 12"},
                "accessMethod": "DOWNLOAD",
                "validUntil": "2030-01-01T00:00:00Z",
                "particulars": given,
            }
        },
    )["data"]["requestShare"]
    steward = services.reads.person(SYSTEM, "priya.stats")
    made = services.sharing.approve(Principal(steward.id, steward.agency_id, frozenset(steward.roles)), asked["id"])
    read = post(
        "uma.uni",
        '{ agreement(id: "ID") { particulars { title frequency reviewDate dpiaSummary } } }'.replace(
            "ID", str(made.agreement_id)
        ),
    )

    assert asked["particulars"]["title"] == PARTICULARS["title"]
    assert read["data"]["agreement"]["particulars"] == {
        "title": PARTICULARS["title"],
        "frequency": "ONGOING",
        "reviewDate": "2026-07-01T00:00:00+00:00",
        "dpiaSummary": PARTICULARS["dpia_summary"],
    }
    [row] = [r for r in table(services, "uk-dea") if r["Information sharing agreement 0001"] == made.agreement_id]
    assert row["Name"] == PARTICULARS["title"] and row["Review date"] == "2026-07-01"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@pytest.mark.parametrize("output", ["csv", "json"])
def test_the_cli_writes_the_register(
    services: Services, public: SharingAgreement, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str
) -> None:
    monkeypatch.setattr(services.store, "close", lambda: None)  # the CLI closes what it opened; this is the test's
    monkeypatch.setattr("catalog.cli.export.open_services", lambda: services)
    out = tmp_path / f"register.{output}"

    result = CliRunner().invoke(cli, ["export", "register", "--format", "uk-dea", "--as", output, "--out", str(out)])
    bad = CliRunner().invoke(cli, ["export", "register", "--format", "fr"])

    assert result.exit_code == 0, result.output
    assert out.read_bytes().decode("utf-8") == services.register.table("uk-dea").render(output)  # type: ignore[arg-type]
    assert bad.exit_code == 2 and "uk-dea" in bad.output
