"""A data owner's and steward's write pages, on both backends with the demo landscape: register a dataset, edit one,
issue a correction, attest a process and record a person's training. For each: done, it reads back changed with
its audit event and recorded decision; refused, the page says why in plain words and links the recorded decision;
bad input names the field, keeps what was typed and writes nothing. Each test ends with the audit chain verifying."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from starlette.testclient import TestClient

from catalog.domain import Outcome
from catalog.principal import SYSTEM
from catalog.services import DecisionFilter, Services
from catalog.services.audit_trail import stored_events, verify_store, written_count
from tests.web.conftest import csrf_of

ADMISSIONS = "health.admissions"  # hamid.health stewards it; grace.health (an approver) may see it, not edit it
DEID = "health.admissions-deid"
DEIDENTIFY = "proc.health-deidentify"


def post_from(browser: TestClient, page_url: str, action: str, **fields: Any) -> Any:
    """Open `page_url` as whoever is signed in and post its form's CSRF token with `fields` to `action`."""
    page = browser.get(page_url)
    assert page.status_code in (200, 403), page.text
    return browser.post(action, data={"csrf_token": csrf_of(page.text), **fields})


def last_event(services: Services, action: str) -> dict[str, Any]:
    events = [e for e in stored_events(services.store) if e["action"] == action]
    assert events, f"no {action} event"
    return events[-1]


def decisions_of(services: Services, action: str, requester: str) -> list[Any]:
    criteria = DecisionFilter(action=action, requester=requester)
    return services.access.list(SYSTEM, criteria, 50, None).items


def refusal_shown(html: str, anchor: str) -> str:
    """The refusal card on a page, which must say why and link the recorded decision."""
    card = re.search(rf'id="{anchor}".*?</section>', html, re.S)
    assert card, f"no refusal card #{anchor}"
    assert "badge deny" in card.group(0) and re.search(r'href="/decisions/[^"]+">The decision in full', card.group(0))
    return card.group(0)


def error_beside(html: str, control_id: str, message: str) -> bool:
    """The control is marked invalid and its error, naming the field, follows it."""
    return bool(
        re.search(rf'id="{re.escape(control_id)}"[^>]*aria-invalid="true"', html)
        and re.search(rf'<p class="field-error"[^>]*>{re.escape(message)}', html)
    )


# -- registering -------------------------------------------------------------------------------------------------

BINS = {
    "id": "city.bin-collections",
    "title": "Bin collection rounds",
    "owner_agency_id": "city",
    "classification": "OFFICIAL",
    "personal_data": "NONE",
    "identifiability": "NOT_APPLICABLE",
    "legal_basis.article6": "PUBLIC_TASK",
    "legal_basis.statute": "Local Government Act 1993 s. 24",
    "permitted_purposes": ["SERVICE_DELIVERY", "STATISTICS"],
    "retention_days": "730",
    "known_limitations": "Rounds missed in storms are not recorded.",
    "tags": "waste, rounds",
    "fields": "round_id: string\nstreet: string | QUASI_IDENTIFIER | Street name\ncollected_on: date",
}


def test_a_data_owner_registers_a_dataset_and_its_page_follows(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("carla.city")
    form = browser.get("/datasets/new")
    done = browser.post("/datasets/new", data={"csrf_token": csrf_of(form.text), **BINS})
    shown = browser.get(done.headers["location"])

    assert form.status_code == 200 and re.search(r'<option value="city" selected>', form.text), "own agency first"
    assert done.status_code == 303 and done.headers["location"] == "/datasets/city.bin-collections"
    assert "Dataset city.bin-collections was registered" in shown.text
    dataset = demo_services.reads.dataset(SYSTEM, "city.bin-collections")
    assert dataset.permitted_purposes == ["SERVICE_DELIVERY", "STATISTICS"] and dataset.retention_days == 730
    assert dataset.legal_basis and dataset.legal_basis.statute == "Local Government Act 1993 s. 24"
    fields = demo_services.reads.fields_of([dataset.id])[dataset.id]
    assert [(f.name, f.type, f.pii.value) for f in fields] == [
        ("round_id", "string", "NONE"), ("street", "string", "QUASI_IDENTIFIER"), ("collected_on", "date", "NONE")
    ]
    event = last_event(demo_services, "register_dataset")
    assert event["principal_id"] == "carla.city" and event["target_ids"] == [dataset.id]
    assert [d.outcome for d in decisions_of(demo_services, "register_dataset", "carla.city")] == [Outcome.PERMIT]
    assert verify_store(demo_services.store).intact


def test_registering_is_refused_in_plain_words_and_bad_input_names_the_field(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("ben.stats")  # an analyst: neither a data owner nor a steward
    refused = post_from(browser, "/datasets/new", "/datasets/new", **{**BINS, "owner_agency_id": "stats"})
    sign_in("carla.city")
    before = written_count(demo_services.store)
    untitled = post_from(browser, "/datasets/new", "/datasets/new", **{**BINS, "title": " "})
    bad_tag = post_from(browser, "/datasets/new", "/datasets/new", **{**BINS, "fields": "a: string\nb: int | SECRET"})
    bad_days = post_from(browser, "/datasets/new", "/datasets/new", **{**BINS, "retention_days": "two years"})
    no_token = browser.post("/datasets/new", data=BINS)

    assert refused.status_code == 403
    card = refusal_shown(refused.text, "refused")
    assert "ben.stats is not a data owner" in card or "ben.stats is not a steward" in card
    assert 'value="Bin collection rounds"' in refused.text, "what was typed is kept"
    assert [d.outcome for d in decisions_of(demo_services, "register_dataset", "ben.stats")] == [Outcome.DENY]
    assert untitled.status_code == bad_tag.status_code == bad_days.status_code == 400
    assert error_beside(untitled.text, "title", "title: String should have at least 1 character")
    assert error_beside(bad_tag.text, "fields", "fields: line 2: pii: Input should be")
    assert error_beside(bad_days.text, "retention_days", "retention_days: must be a whole number of days")
    assert "a: string\nb: int | SECRET</textarea>" in bad_tag.text
    assert "Traceback" not in untitled.text + bad_tag.text + bad_days.text
    assert no_token.status_code == 403 and "security token is missing" in no_token.text
    assert written_count(demo_services.store) == before
    assert not demo_services.reads.datasets_by_ids(SYSTEM, ["city.bin-collections"])
    assert verify_store(demo_services.store).intact


# -- editing -----------------------------------------------------------------------------------------------------


def edit_fields(browser: TestClient, dataset_id: str) -> dict[str, Any]:
    """The edit form's values as the page fills them in: what a person would submit unchanged."""
    page = browser.get(f"/datasets/{dataset_id}/edit").text
    values: dict[str, Any] = dict(re.findall(r'<input id="[^"]+" name="([^"]+)"[^>]*value="([^"]*)"', page))
    values.update(re.findall(r'name="([^"]+)" rows="\d+"[^>]*>([^<]*)</textarea>', page))
    for name, options in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)', options)
        values[name] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    values = {name: html.unescape(value) for name, value in values.items()}
    values["permitted_purposes"] = re.findall(r'name="permitted_purposes" value="([^"]+)" checked', page)
    if 'name="legal_basis.covers_identified" checked' in page:
        values["legal_basis.covers_identified"] = "on"
    return values


def test_a_steward_edits_a_dataset_and_a_sensitive_change_needs_its_reason(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("hamid.health")
    unchanged = edit_fields(browser, ADMISSIONS)
    before = written_count(demo_services.store)
    edit = f"/datasets/{ADMISSIONS}/edit"
    lowered = {**unchanged, "classification": "OFFICIAL_SENSITIVE"}  # from PROTECTED
    no_reason = post_from(browser, edit, edit, **lowered)
    nothing_written = written_count(demo_services.store) == before
    limits = "Private hospitals report a quarter late."
    done = post_from(browser, edit, edit, **{**lowered, "known_limitations": limits, "reason": "Keys held apart."})
    shown = browser.get(done.headers["location"].split("#")[0])

    assert no_reason.status_code == 400 and nothing_written
    assert error_beside(no_reason.text, "reason", "reason: is required when changing classification")
    assert re.search(r'<option selected>OFFICIAL_SENSITIVE</option>', no_reason.text), "what was chosen is kept"
    assert done.status_code == 303 and done.headers["location"] == f"/datasets/{ADMISSIONS}#history"
    dataset = demo_services.reads.dataset(SYSTEM, ADMISSIONS)
    assert dataset.classification == "OFFICIAL_SENSITIVE" and dataset.known_limitations == limits
    assert dataset.version == 2
    fields = demo_services.reads.fields_of([ADMISSIONS])[ADMISSIONS]
    assert fields and all(f.description for f in fields), "field descriptions survive an edit that kept them"
    event = last_event(demo_services, "update_dataset")
    change = json.loads(event["change_json"])
    assert change["reason"] == "Keys held apart." and "fields" not in change["changes"]
    changed = set(change["changes"]) - {"version", "updated_at"}
    assert changed == {"classification", "known_limitations"}, "only what was changed is recorded"
    assert [d.outcome for d in decisions_of(demo_services, "update_dataset", "hamid.health")] == [Outcome.PERMIT]
    assert "Keys held apart." in shown.text and "was updated to version 2" in shown.text
    assert verify_store(demo_services.store).intact


def test_editing_is_refused_in_plain_words_and_a_hidden_dataset_is_not_found(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("grace.health")  # sees the admissions, may not edit them
    offered = browser.get(f"/datasets/{ADMISSIONS}/edit")
    forged = post_from(browser, f"/datasets/{ADMISSIONS}", f"/datasets/{ADMISSIONS}/edit",
                       title="Renamed", classification="OFFICIAL")
    sign_in("uma.uni")  # may not see the admissions at all
    hidden, missing = browser.get(f"/datasets/{ADMISSIONS}/edit"), browser.get("/datasets/health.nothing/edit")
    token = csrf_of(browser.get("/datasets/new").text)
    hidden_post = browser.post(f"/datasets/{ADMISSIONS}/edit", data={"csrf_token": token, "title": "x"})
    missing_post = browser.post("/datasets/health.nothing/edit", data={"csrf_token": token, "title": "x"})

    assert offered.status_code == 403 and "<form class=\"stack\"" not in offered.text
    assert "You may not edit this dataset" in offered.text
    assert "Updating health.admissions is not permitted: grace.health is not" in offered.text
    assert "Ask a data owner of health to do it." in offered.text, "what would have to change"
    assert "Nothing was recorded" in offered.text
    assert forged.status_code == 403
    assert "Updating health.admissions is not permitted" in refusal_shown(forged.text, "refused")
    assert [d.outcome for d in decisions_of(demo_services, "update_dataset", "grace.health")] == [Outcome.DENY]
    assert demo_services.reads.dataset(SYSTEM, ADMISSIONS).title != "Renamed"
    assert hidden.status_code == missing.status_code == hidden_post.status_code == missing_post.status_code == 404
    assert hidden.text.replace(ADMISSIONS, "ID") == missing.text.replace("health.nothing", "ID")
    assert hidden_post.text.replace(ADMISSIONS, "ID") == missing_post.text.replace("health.nothing", "ID")
    assert verify_store(demo_services.store).intact


# -- a correction, an attestation, training ----------------------------------------------------------------------


def test_a_steward_issues_a_correction_on_the_dataset_page(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    page = f"/datasets/{ADMISSIONS}"
    sign_in("grace.health")
    refused = post_from(browser, page, f"{page}/corrections", description="Wrong!", severity="MAJOR")
    sign_in("hamid.health")
    before = written_count(demo_services.store)
    empty = post_from(browser, page, f"{page}/corrections", description="  ", severity="CRITICAL")
    nothing_written = written_count(demo_services.store) == before
    done = post_from(browser, page, f"{page}/corrections",
                     description="Discharge dates for March were a day late.", severity="MAJOR")
    shown = browser.get(page)

    assert refused.status_code == 403 and "Correcting health.admissions is not permitted" in refusal_shown(
        refused.text, "correction-refused"
    )
    assert [d.outcome for d in decisions_of(demo_services, "issue_correction", "grace.health")] == [Outcome.DENY]
    assert empty.status_code == 400 and nothing_written
    assert error_beside(empty.text, "correct-description", "description: is required")
    assert re.search(r'<option selected>CRITICAL</option>', empty.text)
    assert done.status_code == 303 and done.headers["location"] == f"{page}#notices"
    assert "Discharge dates for March were a day late." in shown.text
    notices = demo_services.corrections.notices_of_dataset(SYSTEM, ADMISSIONS)
    assert any(v.notice.description.startswith("Discharge dates") for v in notices)
    assert json.loads(last_event(demo_services, "issue_correction")["change_json"])["severity"] == "MAJOR"
    assert verify_store(demo_services.store).intact


def test_a_steward_attests_a_process_on_the_lineage_page(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    page = f"/datasets/{DEID}/lineage?direction=UPSTREAM&depth=2"
    action = f"/datasets/{DEID}/attest?direction=UPSTREAM&depth=2"
    check = {"process_id": DEIDENTIFY, "output_identifiability": "DEIDENTIFIED"}
    sign_in("alice.health")  # the health data owner: not a steward of the output
    refused = post_from(browser, page, action, **check, note="Looks fine to me.")
    sign_in("hamid.health")
    offered = browser.get(page)
    before = written_count(demo_services.store)
    no_note = post_from(browser, page, action, **check, note=" ")
    nothing_written = written_count(demo_services.store) == before
    done = post_from(browser, page, action, **check, note="Re-checked the 2025-Q4 run: k=11.")

    assert f'<option value="{DEIDENTIFY}"' in offered.text
    assert refused.status_code == 403 and "alice.health" in refusal_shown(refused.text, "attest-refused")
    assert [d.outcome for d in decisions_of(demo_services, "attest_process", "alice.health")] == [Outcome.DENY]
    assert no_note.status_code == 400 and nothing_written
    assert error_beside(no_note.text, "attest-note", "note: is required")
    assert done.status_code == 303
    assert done.headers["location"] == f"/datasets/{DEID}/lineage?direction=UPSTREAM&depth=2#attest"
    event = last_event(demo_services, "attest_process")
    assert event["principal_id"] == "hamid.health"
    assert "k=11" in json.loads(event["change_json"])["attestation_note"]["after"]
    assert "Re-checked the 2025-Q4 run" in browser.get(done.headers["location"]).text
    assert verify_store(demo_services.store).intact


def training(completed: str, expires: str) -> dict[str, str]:
    return {"training.completed_at": completed, "training.expires_at": expires}


def test_a_data_owner_records_a_persons_training(browser: TestClient, sign_in: Any, demo_services: Services) -> None:
    page, action = "/people/nora.social", "/people/nora.social/training"
    sign_in("tom.social")  # a steward, not a data owner
    refused = post_from(browser, page, action, **training("2025-01-10", "2027-01-10"))
    sign_in("samira.social")
    before = written_count(demo_services.store)
    backwards = post_from(browser, page, action, **training("2025-01-10", "2024-01-10"))
    not_a_date = post_from(browser, page, action, **training("last May", "2027-01-10"))
    nothing_written = written_count(demo_services.store) == before
    done = post_from(browser, page, action, **training("2025-01-10", "2030-01-10"))
    own = browser.get("/people/samira.social")

    card = refusal_shown(refused.text, "training-refused")
    assert refused.status_code == 403 and "Recording the training of nora.social is not permitted" in card
    assert [d.outcome for d in decisions_of(demo_services, "record_training", "tom.social")] == [Outcome.DENY]
    assert backwards.status_code == not_a_date.status_code == 400 and nothing_written
    assert error_beside(backwards.text, "expires_at", "training.expires_at: must be after completed_at")
    assert 'value="2024-01-10"' in backwards.text, "what was typed is kept"
    assert error_beside(not_a_date.text, "completed_at", "training.completed_at: must be a date, YYYY-MM-DD")
    assert done.status_code == 303 and done.headers["location"] == "/people/nora.social#training"
    recorded = demo_services.reads.person(SYSTEM, "nora.social").training
    assert recorded and recorded.expires_at.year == 2030
    assert last_event(demo_services, "record_training")["principal_id"] == "samira.social"
    assert 'id="training"' not in own.text, "nobody is offered to record their own training"
    assert verify_store(demo_services.store).intact
