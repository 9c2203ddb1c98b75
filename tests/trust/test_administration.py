"""Administration under the policy, over HTTP on both backends: who may grant which role, name which steward,
deactivate whom. Each finding of the trust review is a test here; the matrix is the README's table."""

from __future__ import annotations

import json
from typing import Any

from catalog.principal import SYSTEM
from catalog.store.query import TRUE
from catalog.store.schema import Label
from tests.conftest import REPO
from tests.trust.conftest import Trust, code

REGISTER = """mutation($i: RegisterPersonInput!) { registerPerson(input: $i) { id roles } }"""
SET_ROLES = """mutation($p: ID!, $r: [Role!]!) { setRoles(personId: $p, roles: $r, reason: "matrix") { roles } }"""
ASSIGN = """mutation($d: ID!, $p: ID!) { assignSteward(datasetId: $d, personId: $p) { stewards { id } } }"""
UNASSIGN = """mutation($d: ID!, $p: ID!) { unassignSteward(datasetId: $d, personId: $p) { stewards { id } } }"""
DEACTIVATE = """mutation($p: ID!) { deactivatePerson(personId: $p, reason: "left the agency") { active } }"""
REACTIVATE = """mutation($p: ID!) { reactivatePerson(personId: $p, reason: "came back") { active } }"""

# The README's table, verbatim: who may grant which role to a person of health, name a steward of a health
# dataset, and deactivate a person of health.
MATRIX = """\
| who acts | DATA_OWNER | STEWARD | APPROVER | ANALYST | AUDITOR | PLATFORM_ADMIN | name a steward | deactivate |
|---|---|---|---|---|---|---|---|---|
| PLATFORM_ADMIN | yes | yes | yes | yes | yes | yes | yes | yes |
| AUDITOR | no | no | no | no | no | no | no | no |
| DATA_OWNER of the person's agency | yes | yes | yes | yes | no | no | yes | yes |
| DATA_OWNER of another agency | no | no | no | no | no | no | no | no |
| STEWARD | no | no | no | no | no | no | no | no |
| APPROVER | no | no | no | no | no | no | no | no |
| ANALYST | no | no | no | no | no | no | no | no |
"""
ACTORS = {
    "PLATFORM_ADMIN": "admin",
    "AUDITOR": "auditor",
    "DATA_OWNER of the person's agency": "owner.health",
    "DATA_OWNER of another agency": "owner.social",
    "STEWARD": "steward.health",
    "APPROVER": "approver.health",
    "ANALYST": "analyst.health",
}


def matrix() -> tuple[list[str], dict[str, dict[str, bool]]]:
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in MATRIX.strip().splitlines()]
    header, body = rows[0], rows[2:]
    return header[1:], {
        row[0]: {col: cell == "yes" for col, cell in zip(header[1:], row[1:], strict=True)} for row in body
    }


def test_the_readme_holds_the_administration_matrix() -> None:
    assert MATRIX in (REPO / "README.md").read_text()


def test_who_may_grant_which_role_name_which_steward_and_deactivate_whom(trust: Trust) -> None:
    reg = trust.services.registration
    for person_id, roles in (("target.health", []), ("candidate.health", ["STEWARD"]), ("analyst.health", ["ANALYST"])):
        reg.register_person(SYSTEM, {"id": person_id, "name": person_id, "agency_id": "health", "roles": roles})
    columns, expected = matrix()
    seen: dict[str, dict[str, bool]] = {}
    for row, actor in ACTORS.items():
        seen[row] = {}
        for column in columns:
            seen[row][column] = attempt(trust, actor, column)
    assert seen == expected


def attempt(trust: Trust, actor: str, column: str) -> bool:
    """Try one cell as `actor` over HTTP; undo it as the platform admin when it was allowed."""
    if column == "name a steward":
        body = trust.gql(ASSIGN, {"d": "waiting", "p": "candidate.health"}, as_=actor)
        undo = (UNASSIGN, {"d": "waiting", "p": "candidate.health"})
    elif column == "deactivate":
        body = trust.gql(DEACTIVATE, {"p": "target.health"}, as_=actor)
        undo = (REACTIVATE, {"p": "target.health"})
    else:
        body = trust.gql(SET_ROLES, {"p": "target.health", "r": [column]}, as_=actor)
        undo = (SET_ROLES, {"p": "target.health", "r": []})
    allowed = "errors" not in body
    # Refused, or, for a dataset the actor may not even see, not found: hidden is missing.
    assert allowed or code(body) in ("FORBIDDEN", "NOT_FOUND"), (actor, column, body)
    if allowed:
        assert "errors" not in trust.gql(*undo, as_="admin")
    return allowed


def test_a_data_owner_cannot_register_an_oversight_role(trust: Trust) -> None:
    people, decisions = trust.count(Label.PERSON), trust.count(Label.DECISION)
    for role in ("PLATFORM_ADMIN", "AUDITOR"):
        person = {"id": f"mole.{role.lower()}", "name": "Mole", "agencyId": "health", "roles": [role]}

        body = trust.gql(REGISTER, {"i": person}, as_="owner.health")

        assert code(body) == "FORBIDDEN"
        assert "deny-oversight-roles-by-staff" in body["errors"][0]["message"]
    assert trust.count(Label.PERSON) == people  # nothing written...
    assert trust.count(Label.DECISION) == decisions + 4  # ...but both refusals are on the record, each decision


def test_a_data_owner_cannot_register_people_in_another_agency(trust: Trust) -> None:
    body = trust.gql(REGISTER, {"i": {"id": "x", "name": "X", "agencyId": "social", "roles": []}}, as_="owner.health")

    assert code(body) == "FORBIDDEN"


def test_only_an_active_member_of_the_owning_agency_with_a_stewards_role_is_named_steward(trust: Trust) -> None:
    other_agency = trust.gql(ASSIGN, {"d": "waiting", "p": "analyst.social"}, as_="owner.health")
    no_role = trust.gql(ASSIGN, {"d": "waiting", "p": "approver.health"}, as_="owner.health")

    for body in (other_agency, no_role):
        assert code(body) == "FORBIDDEN"
        assert "A steward must be an active member of the agency that holds the dataset" in body["errors"][0]["message"]
    stewards = trust.services.reads.stewards_of(["waiting"])["waiting"]
    assert stewards == ["steward.health"]
    # ...and so a stranger never gets to read or edit the PROTECTED dataset through a stewardship.
    assert code(trust.gql('{ dataset(id: "admissions") { id } }', as_="analyst.social")) == "NOT_FOUND"


def test_stewards_are_removed_and_every_steward_change_is_in_the_datasets_history(trust: Trust) -> None:
    reg = trust.services.registration
    reg.register_person(SYSTEM, {"id": "s2.health", "name": "S2", "agency_id": "health", "roles": ["STEWARD"]})
    assert "errors" not in trust.gql(ASSIGN, {"d": "waiting", "p": "s2.health"}, as_="owner.health")

    removed = trust.gql(UNASSIGN, {"d": "waiting", "p": "steward.health"}, as_="owner.health")
    history = trust.gql(
        '{ dataset(id: "waiting") { history { action by change { field before after } } } }', as_="owner.health"
    )["data"]["dataset"]["history"]

    assert removed["data"]["unassignSteward"]["stewards"] == [{"id": "s2.health"}]
    stewards = [(e["action"], e["by"], e["change"][0]["after"]) for e in history if "steward" in e["action"]]
    assert stewards[-2:] == [
        ("assign_steward", "owner.health", json.dumps(["s2.health", "steward.health"])),
        ("unassign_steward", "owner.health", json.dumps(["s2.health"])),
    ]


def test_role_changes_and_deactivation_are_in_the_persons_history(trust: Trust) -> None:
    trust.gql(SET_ROLES, {"p": "steward.health", "r": ["STEWARD", "APPROVER"]}, as_="owner.health")
    trust.gql(DEACTIVATE, {"p": "steward.health"}, as_="owner.health")

    person = trust.gql(
        '{ person(id: "steward.health") { active history { action by reason change { field before after } } } }',
        as_="auditor",
    )["data"]["person"]

    assert person["active"] is False
    actions: list[dict[str, Any]] = person["history"]
    assert [e["action"] for e in actions][-2:] == ["set_roles", "deactivate_person"]
    assert actions[-2]["change"] == [
        {"field": "roles", "before": json.dumps(["STEWARD"]), "after": json.dumps(["STEWARD", "APPROVER"])}
    ]
    assert actions[-1]["reason"] == "left the agency"


def test_every_administrative_refusal_is_a_recorded_decision(trust: Trust) -> None:
    trust.gql(SET_ROLES, {"p": "steward.health", "r": ["AUDITOR"]}, as_="owner.health")

    recorded = trust.services.store.read(lambda tx: tx.find_nodes(Label.DECISION, TRUE, first=10_000)).items
    refusals = [json.loads(p["request_json"]) for _, p in recorded if p["outcome"] == "DENY"]
    assert {"action": "grant_role", "person_id": "steward.health", "role": "AUDITOR"}.items() <= refusals[-1].items()
