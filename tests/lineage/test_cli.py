"""`catalog ingest openlineage FILE`: replaying a JSON Lines file in-process, line by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from catalog.cli import cli
from catalog.config import load_settings
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.store.schema import Label
from catalog.store.sqlite import SqliteStore
from tests.lineage.test_openlineage_api import run_event


def test_replay_records_good_lines_and_reports_bad_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "catalog.db"
    monkeypatch.setenv("CATALOG_STORE", f"sqlite:///{db}")
    store = SqliteStore(db)
    store.init_schema()
    Services(store, load_settings()).registration.register_agency(SYSTEM, {"id": "health", "name": "Health"})
    store.close()
    bad = run_event()
    bad["run"].pop("runId")
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join([json.dumps(run_event()), "", "{not json", json.dumps(bad)]) + "\n")

    result = CliRunner().invoke(cli, ["ingest", "openlineage", str(events), "--agency", "health"])

    assert result.exit_code == 1
    assert "1 events recorded, 2 failed" in result.output
    assert "line 3: not JSON" in result.output
    assert "line 4: $.run.runId: is required" in result.output
    store = SqliteStore(db)
    placeholder = "ol:health:postgres://db:5432/hospital.admissions"
    assert store.read(lambda tx: tx.get_node(Label.DATASET, placeholder)) is not None
    store.close()
