"""Lineage through GraphQL on every backend: column lineage, impact, paths and what each viewer may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalog.domain import Identifiability
from catalog.errors import NotFound
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.query import TRUE
from catalog.store.schema import Label, Rel
from tests.lineage.conftest import acting, agreement, attest, dataset, derive

Gql = Callable[..., dict[str, Any]]
NOTE = "Identifiers removed and checked."
IMPACT = """query($id: ID!, $depth: Int) {
  impact(datasetId: $id, depth: $depth) {
    datasetCount datasets { id depth redacted dataset { title } }
    agreements { id redacted status recipientAgencyId datasetIds } recipientAgencyIds
  }
}"""
LINEAGE_FIELDS = """query($id: ID!) {
  lineage(datasetId: $id, direction: UPSTREAM, depth: 5, includeFields: true) {
    nodes { id kind redacted datasetId field { name } } edges { type source target }
  }
}"""


@pytest.fixture
def landscape(services: Services) -> Services:
    """raw (PROTECTED) -> p-deid (attested) -> extract -> p-tables -> tables (PUBLIC, stats) -> p-city -> city.secret
    (PROTECTED, city). City shares city.secret with health; health shares extract with uni."""
    columns = [{"name": "age"}, {"name": "region"}]
    dataset(services, "raw", classification="PROTECTED", personal_data="SPECIAL_CATEGORY", fields=columns)
    dataset(services, "extract", classification="OFFICIAL_SENSITIVE", fields=columns)
    dataset(services, "tables", owner="stats", classification="PUBLIC", fields=[{"name": "age_band"}])
    dataset(services, "city.secret", owner="city", classification="PROTECTED")
    for process, source, output, kind, column, identifiability in (
        ("p-deid", "raw", "extract", "DEIDENTIFY", ("extract#age", "raw#age"), Identifiability.DEIDENTIFIED),
        ("p-tables", "extract", "tables", "AGGREGATE", ("tables#age_band", "extract#age"), Identifiability.AGGREGATE),
    ):
        column_lineage = [{"output": column[0], "inputs": [column[1]]}]
        derive(services, process, [source], [output], kind=kind, column_lineage=column_lineage)
        attest(services, process, identifiability, NOTE)
    derive(services, "p-city", ["tables"], ["city.secret"])
    for provider, recipient, covered in (("city", "health", "city.secret"), ("health", "uni", "extract")):
        agreement(services, provider, recipient, covered, id=f"agr.{provider}-{recipient}")
    return services


def test_column_lineage_is_drawn_with_the_fields(landscape: Services, gql: Gql) -> None:
    body = gql(LINEAGE_FIELDS, {"id": "tables"})

    graph = body["data"]["lineage"]
    edges = {(e["type"], e["source"], e["target"]) for e in graph["edges"]}
    assert ("DERIVED_FROM", "tables#age_band", "extract#age") in edges
    assert ("DERIVED_FROM", "extract#age", "raw#age") in edges
    assert ("HAS_FIELD", "raw", "raw#region") in edges
    fields = {n["id"]: n for n in graph["nodes"] if n["kind"] == "FIELD"}
    assert fields["extract#age"]["field"] == {"name": "age"}
    assert fields["extract#age"]["datasetId"] == "extract"


def test_fields_of_a_hidden_dataset_are_redacted_but_keep_their_edges(landscape: Services, gql: Gql) -> None:
    body = gql(LINEAGE_FIELDS, {"id": "tables"}, as_="analyst.city")

    graph = body["data"]["lineage"]
    hidden = [n for n in graph["nodes"] if n["kind"] == "FIELD" and n["redacted"]]
    assert hidden and all(n["field"] is None and n["id"].startswith("redacted-") for n in hidden)
    assert "raw#age" not in str(graph)
    assert sum(e["type"] == "DERIVED_FROM" for e in graph["edges"]) == 2  # the shape stays truthful


def test_column_lineage_naming_an_unknown_field_is_refused_and_nothing_is_written(
    landscape: Services, gql: Gql
) -> None:
    body = gql(
        """mutation { recordLineage(input: {id: "p-new", name: "new", inputs: ["raw"], outputs: ["extract"],
             columnLineage: [{output: "extract#nope", inputs: ["raw#age"]}]}) { id } }""",
        as_="steward.health",
    )

    assert body["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "FORBIDDEN")
    assert landscape.store.read(lambda tx: tx.get_node(Label.PROCESS, "p-new")) is None


def test_record_lineage_with_columns_through_graphql(services: Services, gql: Gql) -> None:
    dataset(services, "a", fields=[{"name": "x"}])
    dataset(services, "b", fields=[{"name": "y"}])

    bad = gql(
        """mutation { recordLineage(input: {id: "p", name: "p", inputs: ["a"], outputs: ["b"],
             columnLineage: [{output: "b#y", inputs: ["b#y"]}]}) { id } }""",
        as_="owner.health",
    )
    good = gql(
        """mutation { recordLineage(input: {id: "p", name: "p", inputs: ["a"], outputs: ["b"],
             columnLineage: [{output: "b#y", inputs: ["a#x"]}]}) { id } }""",
        as_="owner.health",
    )

    assert bad["errors"][0]["extensions"]["field"] == "columnLineage.0.inputs.0"
    assert good["data"]["recordLineage"]["id"] == "p"
    derived = services.store.read(lambda tx: tx.neighbors(Rel.DERIVED_FROM, ["b#y"], "out"))
    assert derived == {"b#y": ["a#x"]}


def test_an_auditor_sees_the_whole_impact(landscape: Services, gql: Gql) -> None:
    impact = gql(IMPACT, {"id": "raw", "depth": 10})["data"]["impact"]

    assert [(d["id"], d["depth"]) for d in impact["datasets"]] == [("extract", 1), ("tables", 2), ("city.secret", 3)]
    assert impact["datasetCount"] == 3
    levels = gql("""{ impact(datasetId: "raw") { levels { depth datasetIds } } }""")["data"]["impact"]["levels"]
    assert levels == [
        {"depth": 1, "datasetIds": ["extract"]},
        {"depth": 2, "datasetIds": ["tables"]},
        {"depth": 3, "datasetIds": ["city.secret"]},
    ]
    assert {a["id"] for a in impact["agreements"]} == {"agr.city-health", "agr.health-uni"}
    assert impact["recipientAgencyIds"] == ["health", "uni"]


def test_an_analyst_sees_hidden_parts_of_an_impact_as_redacted_placeholders(landscape: Services, gql: Gql) -> None:
    impact = gql(IMPACT, {"id": "tables", "depth": 10}, as_="analyst.uni")["data"]["impact"]

    (secret,) = impact["datasets"]
    assert secret["redacted"] and secret["id"].startswith("redacted-") and secret["dataset"] is None
    (agreement,) = impact["agreements"]
    assert agreement["redacted"] and agreement["recipientAgencyId"] is None
    assert agreement["datasetIds"] == [secret["id"]]
    assert impact["recipientAgencyIds"] == []


def test_impact_depth_is_capped_by_the_setting(landscape: Services, gql: Gql) -> None:
    cap = landscape.ctx.settings.lineage_max_depth

    body = gql(IMPACT, {"id": "raw", "depth": cap + 1})

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "CATALOG_LINEAGE_MAX_DEPTH" in body["errors"][0]["message"]


def test_lineage_path_runs_from_source_to_derived_dataset(landscape: Services, gql: Gql) -> None:
    query = """query($from: ID!, $to: ID!) { lineagePath(fromId: $from, toId: $to) {
                 found nodes { id kind redacted } } }"""

    found = gql(query, {"from": "raw", "to": "city.secret"})["data"]["lineagePath"]
    backwards = gql(query, {"from": "city.secret", "to": "raw"})["data"]["lineagePath"]

    assert [n["id"] for n in found["nodes"]] == [
        "raw",
        "p-deid",
        "extract",
        "p-tables",
        "tables",
        "p-city",
        "city.secret",
    ]
    assert backwards == {"found": False, "nodes": []}


def test_a_path_through_hidden_datasets_redacts_them(landscape: Services, gql: Gql) -> None:
    dataset(landscape, "city.open", owner="city", classification="PUBLIC")
    landscape.registration.update_dataset(SYSTEM, "city.secret", {"classification": "PUBLIC"}, reason="opened")
    derive(landscape, "p-open", ["city.secret"], ["city.open"])
    landscape.registration.update_dataset(SYSTEM, "raw", {"classification": "OFFICIAL"}, reason="re-assessed")
    landscape.registration.update_dataset(SYSTEM, "extract", {"classification": "PROTECTED"}, reason="re-assessed")

    path = gql(
        """{ lineagePath(fromId: "raw", toId: "city.open") { found nodes { id kind redacted } } }""",
        as_="analyst.city",
    )["data"]["lineagePath"]

    extract = path["nodes"][2]
    assert path["found"] and extract["redacted"] and extract["id"].startswith("redacted-")


def test_effective_values_are_on_the_dataset_type(landscape: Services, gql: Gql) -> None:
    landscape.registration.update_dataset(SYSTEM, "tables", {"title": "Tables"})
    dataset(landscape, "copy", owner="health", classification="PUBLIC")
    derive(landscape, "p-copy", ["raw"], ["copy"])

    body = gql('{ dataset(id: "copy") { classification effectiveClassification effectivePersonalData restrictedBy } }')

    assert body["data"]["dataset"] == {
        "classification": "PUBLIC",
        "effectiveClassification": "PROTECTED",
        "effectivePersonalData": "SPECIAL_CATEGORY",
        "restrictedBy": "raw via p-copy",
    }


def test_attest_process_through_graphql(services: Services, gql: Gql) -> None:
    dataset(services, "raw", classification="PROTECTED")
    dataset(services, "extract")
    derive(services, "p", ["raw"], ["extract"], kind="DEIDENTIFY")
    services.registration.assign_steward(SYSTEM, "extract", "steward.health")
    attest_p = """mutation { attestProcess(processId: "p", outputIdentifiability: DEIDENTIFIED, note: "checked") {
        attestedIdentifiability attestedBy } }"""

    refused = gql(attest_p, as_="owner.health")  # a data owner, but not a steward of the output
    body = gql(attest_p, as_="steward.health")

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"]["attestProcess"] == {"attestedIdentifiability": "DEIDENTIFIED", "attestedBy": "steward.health"}
    page = services.store.read(lambda tx: tx.find_nodes(Label.DATASET, TRUE, first=10))
    assert dict(page.items)["extract"]["effective_classification"] == "OFFICIAL"


@pytest.mark.parametrize("walk", ["view", "impact"])
def test_a_hidden_root_is_refused_before_any_walk_as_a_missing_one_is(landscape: Services, walk: str) -> None:
    """NOT_FOUND for a dataset the viewer may not see, after the same work as for one that does not exist, so
    neither the answer nor its cost tells that it exists."""
    analyst = acting(landscape, "analyst.uni")
    run = {
        "view": lambda id: landscape.lineage.view(analyst, id, "BOTH", 5),
        "impact": lambda id: landscape.lineage.impact(analyst, id, 5),
    }[walk]
    trips = {}
    for id in ("raw", "ghost"):  # hidden (PROTECTED), missing
        before = landscape.store.round_trips
        with pytest.raises(NotFound) as err:
            run(id)
        trips[id] = landscape.store.round_trips - before
        assert err.value.id == id
    before = landscape.store.round_trips
    run("tables")  # visible (PUBLIC)
    trips["tables"] = landscape.store.round_trips - before

    assert trips["raw"] == trips["ghost"] == 1
    assert trips["tables"] > 1
