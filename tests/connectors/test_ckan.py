"""Harvesting a CKAN portal (real data.gov.uk packages, served over loopback HTTP) into the catalog."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog.domain import Role
from catalog.principal import SYSTEM, Principal
from catalog.services import DatasetFilter, Services
from catalog.store.base import GraphStore
from connectors import Change, ConnectorContext, Problem, ServiceSink, run
from connectors.ckan import CkanConnector, solr_time
from connectors.http import retry_after
from tests.connectors.conftest import Harvest, audit_events
from tests.connectors.portal import PUBLISHERS, Fault, Portal

SURVEY = "civil-service-people-survey-2011"
SEDIMENTS = "uk-continental-shelf-seabed-sediments-1-1-million-scale2"  # no licence upstream: not open
POLLINATORS = "pollinator-and-pollination-service-data-from-the-national-pollinator-and-pollination-monit-2015"


def dataset_ids(services: Services) -> set[str]:
    return {d.id for d in services.reads.datasets(SYSTEM, DatasetFilter(), first=100).items}


def message_about(problems: list[Problem], item: str) -> str:
    """The message of the one problem reported, which must be about `item`."""
    assert [p.item for p in problems] == [item]
    return problems[0].message


def test_a_harvest_registers_the_publishers_as_agencies_and_the_packages_as_datasets(
    harvest: Harvest, portal: Portal, services: Services
) -> None:
    report = harvest()

    assert report.failures == []
    assert (report.count("agencies", Change.CREATED), report.count("datasets", Change.CREATED)) == (5, 6)
    agencies = {a.id: a.name for a in services.reads.agencies(first=100).items}
    assert agencies == PUBLISHERS
    assert dataset_ids(services) == {p["name"] for p in portal.packages}
    # The portal caps pages at two packages: the harvest pages by what it was sent, not by what it asked for.
    assert [int(s["start"]) for s in portal.searches()] == [0, 2, 4]


def test_tags_licence_resources_and_extras_are_carried_over(
    harvest: Harvest, portal: Portal, services: Services
) -> None:
    harvest()

    survey = services.reads.dataset(SYSTEM, SURVEY)
    assert survey.title == "Civil Service People Survey 2011"
    assert survey.owner_agency_id == "cabinet-office"
    assert survey.classification == "PUBLIC"
    assert survey.description.startswith("The Civil Service People Survey")
    assert survey.source_url == f"{portal.url}/dataset/{SURVEY}"
    assert survey.source_modified == datetime(2013, 8, 12, 23, 0, 31, 404269, tzinfo=UTC)
    assert survey.licence is not None
    assert (survey.licence.id, survey.licence.title) == ("uk-ogl", "UK Open Government Licence (OGL)")
    assert [d.format for d in survey.distributions] == ["PDF", "PDF", "XLS", "CSV"]
    assert survey.distributions[0].access_url.endswith("csps2011_externalsummary_final_20120201.pdf")
    extras = {e.key: e.value for e in survey.extras}
    assert extras["url"].startswith("http://www.civilservice.gov.uk/")
    assert extras["taxonomy_url"] == ""
    pollinators = services.reads.dataset(SYSTEM, POLLINATORS)
    assert {"bee", "moth", "oilseed rape"} <= set(pollinators.tags)
    assert {e.key: e.value for e in pollinators.extras}["guid"] == "5822900b-3af4-4bb9-a2d6-0b5d384e2a3c"


def test_only_open_packages_are_public(harvest: Harvest, services: Services) -> None:
    harvest()

    assert services.reads.dataset(SYSTEM, SEDIMENTS).classification == "OFFICIAL"
    assert services.reads.dataset(SYSTEM, SURVEY).classification == "PUBLIC"


def test_a_second_harvest_changes_nothing_not_even_the_audit_trail(
    harvest: Harvest, portal: Portal, services: Services, store: GraphStore
) -> None:
    harvest()
    events = audit_events(store)

    again = harvest()

    assert again.failures == []
    assert again.changed == 0
    assert audit_events(store) == events
    assert {d.version for d in services.reads.datasets(SYSTEM, DatasetFilter(), first=100).items} == {1}
    # The second run asked only for what changed since the newest package it already holds.
    assert portal.searches()[-1]["fq"] == "metadata_modified:[2020-03-18T04:48:27.035Z TO *]"


def test_an_incremental_run_updates_only_what_changed_upstream(
    harvest: Harvest, portal: Portal, services: Services, store: GraphStore
) -> None:
    harvest()
    events = audit_events(store)
    package = portal.package(SURVEY)
    package["notes"] = "Revised: the 2011 survey results, with corrected benchmark scores."
    package["metadata_modified"] = "2021-01-05T10:00:00.000000"

    report = harvest()

    assert report.count("datasets", Change.UPDATED) == 1
    assert report.count("datasets", Change.CREATED) == 0
    survey = services.reads.dataset(SYSTEM, SURVEY)
    assert survey.description.startswith("Revised:")
    assert survey.version == 2
    assert audit_events(store) == events + 2  # the update and the decision that allowed it


def test_a_package_closed_upstream_stops_being_public(harvest: Harvest, portal: Portal, services: Services) -> None:
    harvest()
    package = portal.package(SURVEY)
    package["private"] = True
    package["metadata_modified"] = "2021-01-05T10:00:00.000000"

    harvest()

    assert services.reads.dataset(SYSTEM, SURVEY).classification == "OFFICIAL"


def test_a_package_moved_to_another_publisher_keeps_its_owner_with_a_warning(
    harvest: Harvest, portal: Portal, services: Services
) -> None:
    harvest()
    package = portal.package(SURVEY)
    package["organization"] = portal.package(SEDIMENTS)["organization"]
    package["metadata_modified"] = "2021-01-05T10:00:00.000000"

    report = harvest()

    assert services.reads.dataset(SYSTEM, SURVEY).owner_agency_id == "cabinet-office"
    assert "cannot move ownership" in message_about(report.warnings, f"dataset {SURVEY}")


def test_a_dataset_registered_by_hand_is_never_overwritten(harvest: Harvest, services: Services) -> None:
    services.registration.register_agency(SYSTEM, {"id": "cabinet-office", "name": "Cabinet Office"})
    services.registration.register_dataset(
        SYSTEM, {"id": SURVEY, "title": "Our own survey", "owner_agency_id": "cabinet-office"}
    )

    report = harvest()

    assert [(f.item, "not harvested" in f.message) for f in report.failures] == [(f"dataset {SURVEY}", True)]
    assert services.reads.dataset(SYSTEM, SURVEY).title == "Our own survey"
    assert report.count("datasets", Change.CREATED) == 5


def test_a_page_of_bad_json_is_reported_and_the_harvest_goes_on(
    harvest: Harvest, portal: Portal, services: Services
) -> None:
    portal.faults[("package_search", 2)] = Fault("bad-json")

    report = harvest()

    assert "not JSON" in message_about(report.failures, "package_search start=2")
    assert len(dataset_ids(services)) == 4


def test_packages_with_missing_fields_are_reported_one_by_one(
    harvest: Harvest, portal: Portal, services: Services
) -> None:
    del portal.package(SURVEY)["name"]
    orphan = portal.package(SEDIMENTS)
    del orphan["organization"]

    report = harvest()

    messages = sorted(f.message for f in report.failures)
    assert messages == [
        "name: is required (CKAN's package slug)",
        "organization: is required (the package names no owning organisation)",
    ]
    assert len(dataset_ids(services)) == 4


def test_a_page_that_keeps_failing_is_retried_then_reported(
    harvest: Harvest, portal: Portal, services: Services, sleeps: list[float]
) -> None:
    portal.faults[("package_search", 2)] = Fault("status", status=500)

    report = harvest(max_retries=2)

    assert "HTTP 500 after 3 tries" in message_about(report.failures, "package_search start=2")
    assert sleeps == [0.5, 1.0]  # exponential backoff from backoff_s
    assert len(dataset_ids(services)) == 4


def test_a_hanging_portal_times_out_and_the_harvest_goes_on(
    harvest: Harvest, portal: Portal, services: Services
) -> None:
    portal.faults[("package_search", 4)] = Fault("hang")

    report = harvest(timeout_s=0.3, max_retries=0)

    assert "no answer within 0.3 s" in message_about(report.failures, "package_search start=4")
    assert len(dataset_ids(services)) == 4


def test_retry_after_is_honoured_on_429(
    harvest: Harvest, portal: Portal, services: Services, sleeps: list[float]
) -> None:
    portal.faults[("package_search", 0)] = Fault("status", status=429, retry_after="7", times=1)

    report = harvest()

    assert report.failures == []
    assert sleeps == [7.0]
    assert len(dataset_ids(services)) == 6


def test_retry_after_may_be_an_http_date() -> None:
    import httpx

    response = httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"})

    assert retry_after(response, datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)) == 30.0
    assert retry_after(httpx.Response(503), datetime.now(UTC)) is None


def test_a_portal_that_ignores_start_is_stopped_on_the_repeated_page(
    harvest: Harvest, portal: Portal, services: Services
) -> None:
    portal.ignore_start = True

    report = harvest()

    assert len(portal.searches()) == 2
    assert "ignores `start`" in message_about(report.warnings, "package_search")
    assert len(dataset_ids(services)) == 2


def test_a_portal_answering_success_false_ends_the_harvest_with_a_failure(
    harvest: Harvest, portal: Portal, services: Services
) -> None:
    portal.faults[("package_search", None)] = Fault("success-false")

    report = harvest()

    assert [f.item for f in report.failures] == ["package_search start=0"]
    assert dataset_ids(services) == set()


def test_all_organisations_can_be_harvested_even_those_without_datasets(harvest: Harvest, services: Services) -> None:
    report = harvest(organizations="all", rows=2)

    assert report.failures == []
    agencies = {a.id: a.name for a in services.reads.agencies(first=100).items}
    assert agencies == {**PUBLISHERS, "network-rail": "Network Rail"}


def test_organisations_listed_by_name_only_are_looked_up_one_by_one(
    harvest: Harvest, portal: Portal, services: Services
) -> None:
    portal.names_only = True

    report = harvest(organizations="all")

    assert report.failures == []
    assert len([r for r in portal.requests if r["action"] == "organization_show"]) == 6
    assert services.reads.agency("network-rail").name == "Network Rail"


def test_an_id_prefix_keeps_portals_apart(harvest: Harvest, services: Services) -> None:
    harvest(id_prefix="uk.")

    assert services.reads.dataset(SYSTEM, f"uk.{SURVEY}").owner_agency_id == "uk.cabinet-office"


def test_a_data_owner_harvests_only_what_policy_lets_them_register(portal: Portal, services: Services) -> None:
    services.registration.register_agency(SYSTEM, {"id": "cabinet-office", "name": "Cabinet Office"})
    owner = Principal(id="olu", agency_id="cabinet-office", roles=frozenset({Role.DATA_OWNER}))
    connector = CkanConnector.create({"url": portal.url}, ConnectorContext(ServiceSink(services, owner)))

    report = run(connector)

    assert report.count("datasets", Change.CREATED) == 1
    assert dataset_ids(services) == {SURVEY}
    assert {f.item.split(" ")[0] for f in report.failures} == {"agency", "dataset"}


def test_solr_times_are_floored_to_the_millisecond() -> None:
    assert solr_time(datetime(2020, 3, 18, 4, 48, 27, 35267, tzinfo=UTC)) == "2020-03-18T04:48:27.035Z"
