"""Connectors: harvest metadata in from where governments publish it (CKAN, DCAT) and lineage from where pipelines
report it (OpenLineage). They import the catalog, never the reverse; the DCAT-AP export is the catalog's own.

Every connector has one shape (`Connector`): a pydantic config, `create(config, ctx)`, a generator of records,
a `Report`, and `close()`. `run()` writes its records through a `Sink`: the store in-process (`ServiceSink`) or
a running catalog's GraphQL API (`GraphQLSink`). `registry` finds connectors by name; `catalog ingest` finds
the same specs through the `catalog.connectors` entry points.
"""

from __future__ import annotations

from connectors.base import (
    Change,
    Connector,
    ConnectorConfig,
    ConnectorContext,
    Problem,
    Record,
    Report,
    WriteResult,
    run,
)
from connectors.records import AgencyRecord, DatasetRecord
from connectors.registry import ConnectorSpec, connector_class, register
from connectors.sinks import GraphQLSink, ServiceSink, Sink

__all__ = [
    "AgencyRecord",
    "Change",
    "Connector",
    "ConnectorConfig",
    "ConnectorContext",
    "ConnectorSpec",
    "DatasetRecord",
    "GraphQLSink",
    "Problem",
    "Record",
    "Report",
    "ServiceSink",
    "Sink",
    "WriteResult",
    "connector_class",
    "register",
    "run",
]
