"""The catalog's record is the authority, over HTTP on both backends: a token only names a person."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from catalog.domain import Person, Role, utcnow
from catalog.store.records import to_props
from catalog.store.schema import Label
from tests.trust.conftest import Trust, code
from tests.web.conftest import csrf_of

REGISTER_DATASET = """mutation { registerDataset(input: {id: "rogue", title: "Rogue", ownerAgencyId: "health"}) {
                      id } }"""
CHECK = """mutation { checkAccess(input: {datasetId: "clinics", purpose: "RESEARCH", accessMethod: API}) {
           outcome } }"""


def forged(trust: Trust, claims: dict[str, object]) -> str:
    """A validly signed token with whatever claims an attacker chose."""
    settings = trust.services.ctx.settings.auth
    return jwt.encode({"exp": utcnow() + timedelta(minutes=5), **claims}, settings.jwt_secret, algorithm="HS256")


def post(trust: Trust, query: str, token: str) -> dict[str, object]:
    response = trust.client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    body: dict[str, object] = response.json()
    body["_status"] = response.status_code
    return body


def test_a_token_for_a_person_the_catalog_does_not_know_is_unauthenticated(trust: Trust) -> None:
    token = forged(trust, {"sub": "ghost", "agency": "health", "roles": ["PLATFORM_ADMIN"]})
    decisions, datasets = trust.count(Label.DECISION), trust.count(Label.DATASET)

    registered = post(trust, REGISTER_DATASET, token)
    checked = post(trust, CHECK, token)

    for body in (registered, checked):
        assert body["_status"] == 401
        assert code(body) == "UNAUTHENTICATED"
        assert "does not know" in str(body["errors"])
    assert (trust.count(Label.DECISION), trust.count(Label.DATASET)) == (decisions, datasets)  # no PERMIT, nothing


def test_roles_written_in_a_token_count_for_nothing(trust: Trust) -> None:
    token = forged(trust, {"sub": "analyst.social", "agency": "health", "roles": ["PLATFORM_ADMIN"]})

    body = post(trust, REGISTER_DATASET, token)
    me = post(trust, "{ me { agencyId roles } }", token)

    assert code(body) == "FORBIDDEN"
    assert me["data"] == {"me": {"agencyId": "social", "roles": ["ANALYST"]}}


def test_a_token_keeps_no_roles_after_they_are_withdrawn(trust: Trust) -> None:
    token = trust.token("owner.health")
    query = '{ me { roles } dataset(id: "admissions") { id } }'
    assert post(trust, query, token)["data"] == {"me": {"roles": ["DATA_OWNER"]}, "dataset": {"id": "admissions"}}

    withdrawn = trust.gql(
        'mutation { setRoles(personId: "owner.health", roles: [], reason: "moved on") { roles } }', as_="admin"
    )
    after = post(trust, REGISTER_DATASET, token)

    assert withdrawn["data"] == {"setRoles": {"roles": []}}
    assert code(after) == "FORBIDDEN"  # the same token, at once: the catalog's record says who they are now
    assert post(trust, "{ me { roles } }", token)["data"] == {"me": {"roles": []}}


def test_a_deactivated_persons_token_is_refused_and_reactivation_restores_it(trust: Trust) -> None:
    token = trust.token("steward.health")
    assert post(trust, "{ me { id } }", token)["data"] == {"me": {"id": "steward.health"}}

    trust.gql(
        'mutation { deactivatePerson(personId: "steward.health", reason: "left") { active } }', as_="owner.health"
    )
    refused = post(trust, "{ me { id } }", token)
    trust.gql('mutation { reactivatePerson(personId: "steward.health", reason: "back") { active } }', as_="admin")

    assert refused["_status"] == 401 and code(refused) == "UNAUTHENTICATED"
    assert "deactivated" in str(refused["errors"])
    assert post(trust, "{ me { id } }", token)["data"] == {"me": {"id": "steward.health"}}


def test_a_deactivated_person_is_signed_out_of_the_pages(trust: Trust) -> None:
    csrf = csrf_of(trust.client.get("/signin").text)
    trust.client.post("/signin", data={"csrf_token": csrf, "token": trust.token("analyst.social")})
    assert "Signed in as" in trust.client.get("/").text

    trust.services.people.deactivate(trust.principal("owner.social"), "analyst.social", "contract ended")
    home = trust.client.get("/")

    assert "Signed in as" not in home.text
    assert "deactivated" in home.text


REGISTER_PERSON = "mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { id } }"


@pytest.mark.parametrize("reserved", ["system", "Anonymous"])
def test_no_person_may_take_an_id_the_catalog_itself_acts_under(trust: Trust, reserved: str) -> None:
    """A data owner registered a person `system` and, signed in as them, read the catalog's own audit events (the
    demo load, connector runs) as events they had caused: hidden datasets' titles and fields included."""
    people = trust.count(Label.PERSON)

    body = trust.gql(
        REGISTER_PERSON, {"i": {"id": reserved, "name": "Sys", "agencyId": "health"}}, as_="owner.health"
    )

    error = body["errors"][0]
    assert (error["extensions"]["code"], error["extensions"].get("field")) == ("BAD_USER_INPUT", "id"), error
    assert "reserved" in error["message"]
    assert trust.count(Label.PERSON) == people


def test_a_person_stored_under_a_reserved_id_cannot_sign_in(trust: Trust) -> None:
    """A record written before the id was reserved: its token reads nothing of what the catalog itself caused."""
    stored = to_props(Person(id="system", name="Sys", agency_id="health", roles=[Role.ANALYST]))
    trust.services.store.write(lambda tx: tx.create_node(Label.PERSON, "system", stored))

    body = post(trust, "{ auditTrail(first: 5) { totalCount } }", trust.token("system"))

    assert body["_status"] == 401 and code(body) == "UNAUTHENTICATED", body
    assert "reserved" in str(body["errors"])
