"""The connector shape: registry, config errors, and a run that survives one bad record."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import ClassVar

import pytest

import connectors
from catalog.errors import Conflict, InvalidInput, Unavailable
from catalog.ingestion import installed
from catalog.principal import SYSTEM
from catalog.services import Services
from connectors import (
    Change,
    Connector,
    ConnectorConfig,
    ConnectorContext,
    Record,
    Report,
    ServiceSink,
    Sink,
    WriteResult,
    connector_class,
    run,
)
from connectors.ckan import CkanConnector
from connectors.dcat import DcatConnector
from connectors.registry import REGISTRY

REPO = Path(__file__).resolve().parent.parent.parent


class Step(Record):
    kind: ClassVar[str] = "steps"

    def __init__(self, n: int, error: Exception | None = None) -> None:
        self.n, self.error = n, error

    @property
    def key(self) -> str:
        return f"step {self.n}"

    def apply(self, sink: Sink) -> WriteResult:
        if self.error:
            raise self.error
        return WriteResult(Change.CREATED)


class StepsConfig(ConnectorConfig):
    steps: int = 3


class Steps(Connector[StepsConfig]):
    name: ClassVar[str] = "steps"
    config_class: ClassVar[type[ConnectorConfig]] = StepsConfig
    failing: ClassVar[dict[int, Exception]] = {}
    closed = False

    def records(self) -> Iterator[Record]:
        for n in range(self.config.steps):
            yield Step(n, self.failing.get(n))

    def close(self) -> None:
        self.closed = True


def test_the_public_surface_is_what_all_says() -> None:
    assert all(hasattr(connectors, name) for name in connectors.__all__)


def test_the_registry_finds_each_connector_by_name() -> None:
    assert connector_class("ckan") is CkanConnector
    assert connector_class("dcat") is DcatConnector


def test_every_registered_connector_is_an_entry_point_the_catalog_finds() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["catalog.connectors"]

    assert {name: resolve(value) for name, value in declared.items()} == REGISTRY
    assert installed() == REGISTRY, "the installed metadata is stale: run `pip install -e .` again"


def resolve(value: str) -> object:
    module, _, attribute = value.partition(":")
    return getattr(import_module(module), attribute)


def test_an_unknown_connector_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as caught:
        connector_class("socrata")

    assert caught.value.field == "connector"
    assert "ckan, dcat" in caught.value.rule


def test_a_bad_config_names_the_setting(services: Services) -> None:
    context = ConnectorContext(ServiceSink(services, SYSTEM))

    with pytest.raises(InvalidInput) as caught:
        CkanConnector.create({"url": "http://127.0.0.1:9", "rows": 0}, context)
    assert caught.value.field == "rows"
    with pytest.raises(InvalidInput) as unknown:
        CkanConnector.create({"url": "http://127.0.0.1:9", "colour": "red"}, context)
    assert (unknown.value.field, unknown.value.rule) == ("colour", "is not a known field")
    # A portal address that is no URL was tried five times over some 15 s before the run failed.
    with pytest.raises(InvalidInput) as not_a_url:
        CkanConnector.create({"url": "notaurl"}, context)
    assert (not_a_url.value.field, not_a_url.value.rule) == ("url", "must be an absolute http(s) URL")


def test_one_failing_record_is_reported_and_the_run_goes_on(services: Services) -> None:
    Steps.failing = {1: Conflict("step 1 clashes with something")}
    connector = Steps.create({"steps": 4}, ConnectorContext(ServiceSink(services, SYSTEM)))

    report = run(connector)

    assert report.count("steps", Change.CREATED) == 3
    assert [(f.item, f.message) for f in report.failures] == [("step 1", "step 1 clashes with something")]
    assert connector.closed
    assert "  steps: 3 created, 0 updated, 0 unchanged" in report.lines()


def test_a_catalog_that_cannot_be_written_stops_the_run(services: Services) -> None:
    Steps.failing = {1: Unavailable("the store is down")}
    connector = Steps.create({"steps": 4}, ConnectorContext(ServiceSink(services, SYSTEM)))

    report = run(connector)

    assert report.count("steps") == 1
    assert report.aborted == "the catalog cannot be written to: the store is down"
    assert connector.closed


def test_each_problem_is_one_line_of_the_report() -> None:
    """A parser's message ran over three lines of `catalog ingest dcat`'s report (rdflib quotes the source)."""
    report = Report("dcat")
    report.fail("source", "at line 1 of <>:\nBad syntax (expected directive) at ^ in:\n\"b''^b'vm\\n'\"")
    report.warn("dataset x", "two\r\nlines")

    lines = report.lines()

    assert "    source: at line 1 of <>: Bad syntax (expected directive) at ^ in: \"b''^b'vm\\n'\"" in lines
    assert "    dataset x: two lines" in lines
    assert all("\n" not in line and "\r" not in line for line in lines)
