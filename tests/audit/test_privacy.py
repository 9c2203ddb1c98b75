"""Audit payloads say what changed without copying personal data: names of fields and digests, never the values."""

from __future__ import annotations

import io
import json

from catalog.audit.chain import digest
from catalog.demo import ADMIN, STAFF
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.services.audit_trail import export_store, stored_events

SAMPLE = "e.g. 4417 123 456"  # what a careless steward might paste into a PII field's description


def trail_text(services: Services) -> str:
    out = io.StringIO()
    export_store(services.store, out)
    return out.getvalue()


def test_no_name_or_email_of_any_person_is_in_the_trail(activity: Services) -> None:
    text = trail_text(activity)

    for id, name, *_ in [*STAFF, ADMIN]:
        assert name not in text, name
        assert f"{id}@example.gov" not in text, id


def test_a_person_registration_records_digests_of_name_and_email(activity: Services) -> None:
    registered = next(e for e in stored_events(activity.store) if e["action"] == "register_person")
    change = json.loads(registered["change_json"])
    person = activity.reads.person(SYSTEM, registered["target_ids"][0])

    assert change["name"] == {"before": None, "after": "sha256:" + digest(person.name)}
    assert change["email"] == {"before": None, "after": "sha256:" + digest(person.email)}


def test_pii_field_descriptions_never_reach_the_trail(services: Services) -> None:
    registration = services.registration
    registration.register_agency(SYSTEM, {"id": "transport", "name": "Department of Transport"})
    fields = [{"name": "stop_id"}, {"name": "card_id", "pii": "DIRECT_IDENTIFIER", "description": SAMPLE}]
    registration.register_dataset(
        SYSTEM, {"id": "trips", "title": "Trips", "owner_agency_id": "transport", "fields": fields}
    )
    fields[1]["description"] = f"Smartcard number, {SAMPLE}9"
    registration.update_dataset(SYSTEM, "trips", {"fields": [*fields, {"name": "fare"}]})

    text = trail_text(services)
    changes = [json.loads(e["change_json"]) for e in stored_events(services.store) if "trips" in e["target_ids"]]

    stop = {"name": "stop_id", "type": "string", "pii": "NONE"}
    card = {"name": "card_id", "type": "string", "pii": "DIRECT_IDENTIFIER"}
    assert SAMPLE not in text
    # Names, types and PII tags are kept (a re-tagged column must show); descriptions, which may quote data, not.
    assert changes[-1]["changes"]["fields"] == {
        "before": [stop, card],
        "after": [stop, card, {"name": "fare", "type": "string", "pii": "NONE"}],
    }


def test_a_harvested_maintainers_email_is_kept_only_as_a_digest(services: Services) -> None:
    """Connectors carry CKAN's maintainer_email over as an extra; the trail must not copy the address."""
    services.registration.register_agency(SYSTEM, {"id": "council", "name": "Riverton Council"})
    extras = [{"key": "maintainer_email", "value": "jo.bloggs@riverton.example"}, {"key": "theme", "value": "roads"}]
    services.registration.register_dataset(
        SYSTEM, {"id": "potholes", "title": "Pothole reports", "owner_agency_id": "council", "extras": extras}
    )

    text = trail_text(services)

    changes = [json.loads(e["change_json"]) for e in stored_events(services.store) if "potholes" in e["target_ids"]]
    assert "jo.bloggs@riverton.example" not in text
    # The extras are recorded as changed, by digest: an auditor can tell they changed, not what they say.
    assert changes[-1]["extras_json"]["after"].startswith("sha256:")
    assert changes[-1]["title"]["after"] == "Pothole reports"  # the rest of what changed is still there


def test_harvested_names_in_extras_are_kept_only_as_a_digest(services: Services) -> None:
    services.registration.register_agency(SYSTEM, {"id": "council", "name": "Riverton Council"})
    extras = [{"key": "maintainer", "value": "Josephine Bloggs"}, {"key": "theme", "value": "roads"}]
    services.registration.register_dataset(
        SYSTEM, {"id": "bins", "title": "Bin collections", "owner_agency_id": "council", "extras": extras}
    )

    assert "Josephine Bloggs" not in trail_text(services)
