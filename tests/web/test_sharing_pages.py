"""The sharing workflow's pages on both backends with the demo landscape: the queue, a request with its four-eyes
state and verdict forms, and the form to ask for a share. Each test ends with the audit chain verifying."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.domain import ShareRequestStatus
from catalog.principal import SYSTEM
from catalog.services import Services
from tests.web.conftest import csrf_of, nothing_written, post_form

pytestmark = pytest.mark.usefixtures("audit_trail_verifies")
LINKAGE_FIELDS = ["patient_id", "admission_date", "principal_diagnosis"]


def ask(browser: TestClient, dataset_id: str, **overrides: Any) -> Any:
    """Post the share-request form for `dataset_id` as whoever is signed in; returns the response to the POST."""
    form = browser.get("/share-requests/new", params={"dataset": dataset_id})
    assert form.status_code == 200, form.text
    data: dict[str, Any] = {
        "csrf_token": csrf_of(form.text),
        "provider": re.search(r'name="provider" value="([^"]+)"', form.text).group(1),  # type: ignore[union-attr]
        "dataset_ids": dataset_id,
        "purpose": "RESEARCH",
        "access_method": "SECURE_ENCLAVE",
        "legal_basis.article6": "PUBLIC_TASK",
        "legal_basis.statute": "Data Sharing and Integration Act 2022 s. 13",
        "valid_until": "2035-06-30",
        "justification": "Readmission study, second wave.",
        **overrides,
    }
    return browser.post("/share-requests/new", data=data)


def request_id_of(response: Any) -> str:
    assert response.status_code == 303, response.text
    found = re.match(r"/share-requests/([^#?]+)", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


@pytest.fixture
def linkage_request(browser: TestClient, sign_in: Any) -> str:
    """ben.stats asks health for identified admissions fields: a request that needs four eyes. Returns its id."""
    sign_in("ben.stats")
    return request_id_of(
        ask(browser, "health.admissions", fields=LINKAGE_FIELDS, **{"legal_basis.covers_identified": "on"})
    )


@pytest.fixture
def request_for_hamid(linkage_request: str, sign_in: Any) -> str:
    """The linkage request, with its dataset's steward hamid.health signed in to give a verdict. Returns its id."""
    sign_in("hamid.health")
    return linkage_request


def post_on(browser: TestClient, request_id: str, verdict: str, **fields: str) -> Any:
    return post_form(browser, f"/share-requests/{request_id}", f"/share-requests/{request_id}/{verdict}", **fields)


def status_of(services: Services, request_id: str) -> ShareRequestStatus:
    return services.sharing.get(SYSTEM, request_id).status


def test_a_steward_approves_from_the_queue_then_the_second_approver_makes_the_agreement(
    browser: TestClient, sign_in: Any, demo_services: Services, request_for_hamid: str
) -> None:
    queue = browser.get("/share-requests")
    link = re.search(rf'href="(/share-requests/{re.escape(request_for_hamid)})"', queue.text)
    assert link, "the request waits for the dataset's steward"
    first = browser.post(
        f"{link.group(1)}/approve",
        data={"csrf_token": csrf_of(queue.text), "note": "Minimum fields.", "conditions": "Enclave only\nNo export"},
    )
    after_first = browser.get(first.headers["location"])
    sign_in("grace.health")
    grace_queue = browser.get("/share-requests")
    second = post_on(browser, request_for_hamid, "approve", note="Second pair of eyes.")
    after_second = browser.get(second.headers["location"])

    assert first.status_code == second.status_code == 303
    assert "Your verdict: approve" in after_first.text
    assert "It counts as the approval of a steward of health.admissions." in after_first.text
    assert re.search(r'<section class="card" aria-labelledby="yours".*?badge permit', after_first.text, re.S)
    given = r'class="given"><td>a steward of health.admissions</td>\s*<td><a[^>]*>hamid.health'
    needed = r'class="needed"><td>a second approver of health</td>\s*<td><strong>still needed'
    assert re.search(given, after_first.text) and re.search(needed, after_first.text)
    assert 'action="/share-requests/' not in after_first.text, "one verdict per person: no more forms for hamid"
    assert request_for_hamid in grace_queue.text
    assert status_of(demo_services, request_for_hamid) == ShareRequestStatus.APPROVED
    agreement_id = demo_services.sharing.get(SYSTEM, request_for_hamid).agreement_id
    assert agreement_id and f'href="/agreements/{agreement_id}"' in after_second.text
    assert demo_services.agreements.get(SYSTEM, agreement_id).conditions == ["Enclave only", "No export"]


def test_rejecting_without_a_reason_names_the_field_and_writes_nothing(
    browser: TestClient, demo_services: Services, request_for_hamid: str
) -> None:
    with nothing_written(demo_services, "nothing recorded for a form with an error"):
        empty = post_on(browser, request_for_hamid, "reject", reason="   ")
    rejected = post_on(browser, request_for_hamid, "reject", reason="Use the de-identified extract instead.")
    shown = browser.get(rejected.headers["location"])

    assert empty.status_code == 400
    assert re.search(
        r'name="reason"[^>]*aria-invalid="true"[^>]*>\s*</textarea></label>\s*<p class="field-error"'
        r"[^>]*>reason: is required",
        empty.text,
    )
    assert "Traceback" not in empty.text
    assert rejected.status_code == 303
    assert status_of(demo_services, request_for_hamid) == ShareRequestStatus.REJECTED
    assert "Your verdict: reject" in shown.text and "Use the de-identified extract instead." in shown.text


def test_the_requester_is_offered_no_verdict_and_a_forged_one_is_refused_with_its_decision(
    browser: TestClient, demo_services: Services, linkage_request: str
) -> None:
    own = browser.get(f"/share-requests/{linkage_request}")
    forged = browser.post(f"/share-requests/{linkage_request}/approve", data={"csrf_token": csrf_of(own.text)})

    assert own.status_code == 200 and "Still waiting for a steward of health.admissions" in own.text
    assert f'action="/share-requests/{linkage_request}/approve"' not in own.text
    assert forged.status_code == 403
    refusal = re.search(r'aria-labelledby="refused".*?</section>', forged.text, re.S)
    assert refusal and "badge deny" in refusal.group(0) and "EXPLICIT" in refusal.group(0)
    assert "ben.stats asked for this share" in refusal.group(0)
    assert "What would have to change" in refusal.group(0)
    assert status_of(demo_services, linkage_request) == ShareRequestStatus.PENDING_APPROVAL
    assert demo_services.sharing.approvals_of([linkage_request])[linkage_request] == []


def test_a_request_the_viewer_may_not_read_answers_as_a_missing_one(
    browser: TestClient, sign_in: Any, demo_services: Services, linkage_request: str
) -> None:
    sign_in("uma.uni")
    page = browser.get("/share-requests")

    hidden = browser.get(f"/share-requests/{linkage_request}")
    missing = browser.get("/share-requests/shr-none")
    hidden_post = browser.post(f"/share-requests/{linkage_request}/approve", data={"csrf_token": csrf_of(page.text)})
    missing_post = browser.post("/share-requests/shr-none/approve", data={"csrf_token": csrf_of(page.text)})

    assert hidden.status_code == missing.status_code == hidden_post.status_code == missing_post.status_code == 404
    for shown, id in ((hidden, linkage_request), (hidden_post, linkage_request), (missing_post, "shr-none")):
        assert shown.text.replace(id, "ID") == missing.text.replace("shr-none", "ID")
    assert status_of(demo_services, linkage_request) == ShareRequestStatus.PENDING_APPROVAL


def test_a_verdict_without_the_forms_token_is_refused_and_writes_nothing(
    browser: TestClient, demo_services: Services, request_for_hamid: str
) -> None:
    with nothing_written(demo_services):
        response = browser.post(f"/share-requests/{request_for_hamid}/approve", data={"note": "forged"})

    assert response.status_code == 403 and "security token" in response.text
    assert status_of(demo_services, request_for_hamid) == ShareRequestStatus.PENDING_APPROVAL


def test_the_queue_shows_what_waits_for_me_my_agencys_and_all_with_pages(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("carla.city")
    waiting = browser.get("/share-requests")
    agency = browser.get("/share-requests", params={"view": "agency", "status": "APPROVED"})
    sign_in("hamid.health")
    hamid = browser.get("/share-requests")
    sign_in("auditor")
    everything = browser.get("/share-requests", params={"view": "all"})
    next_link = re.search(r'rel="next" href="([^"]+)"', everything.text)
    assert next_link, "the demo's six requests at four a page need a next page"
    rest = browser.get(next_link.group(1).replace("&amp;", "&"))
    bad = browser.get("/share-requests", params={"view": "all", "status": "MAYBE"})

    def ids(html: str) -> list[str]:
        return re.findall(r'<tr data-request="([^"]+)"', html)

    city_pending = [r for r in ids(waiting.text) if status_of(demo_services, r) == ShareRequestStatus.PENDING_APPROVAL]
    assert len(ids(waiting.text)) == len(city_pending) == 1, "ben.stats's second ask waits for carla.city"
    assert ids(agency.text) and all(
        status_of(demo_services, r) == ShareRequestStatus.APPROVED for r in ids(agency.text)
    )
    assert ids(hamid.text) == [] and "Nothing is waiting for you." in hamid.text
    assert len(ids(everything.text)) == 4 and len(set(ids(everything.text) + ids(rest.text))) == 6
    assert bad.status_code == 400 and "status: must be one of" in bad.text


def test_an_analyst_without_training_sees_the_refusal_and_its_remedies(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("rui.uni")

    response = ask(browser, "health.admissions-deid", fields=["age_group", "sex"])
    shown = browser.get(response.headers["location"])

    request_id = request_id_of(response)
    assert status_of(demo_services, request_id) == ShareRequestStatus.DENIED
    assert "was decided by the policy: refused" in shown.text
    decided = re.search(r'id="decisions".*?</section>', shown.text, re.S)
    assert decided and "badge deny" in decided.group(0)
    assert "rui.uni has no data-ethics training on record" in decided.group(0)
    assert re.search(r'class="remedies">.*Complete data-ethics training', decided.group(0), re.S)


def test_a_bad_window_or_field_is_named_beside_it_and_nothing_is_recorded(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("uma.uni")

    with nothing_written(demo_services):
        past = ask(
            browser, "health.admissions-deid", valid_from="2020-01-01", valid_until="2021-01-01", justification="kept"
        )
        garbled = ask(browser, "health.admissions-deid", valid_until="next spring")
        no_field = ask(browser, "health.admissions-deid", fields=["shoe_size"])
        no_purpose = ask(browser, "health.admissions-deid", purpose="")

    assert past.status_code == garbled.status_code == no_field.status_code == no_purpose.status_code == 400
    assert re.search(
        r'id="valid_until"[^>]*aria-invalid="true"[^>]*></label>\s*<p class="field-error"[^>]*>'
        r"valid_until: must be in the future",
        past.text,
    )
    assert ">kept</textarea>" in past.text, "what was typed is shown again"
    assert "valid_until: must be a date, YYYY-MM-DD" in garbled.text
    assert re.search(r"<p class=\"field-error\" id=\"fields-error\"[^>]*>fields.0: is not a field of", no_field.text)
    assert re.search(r"<p class=\"field-error\" id=\"purpose-error\"[^>]*>purpose: is required", no_purpose.text)
    assert "Traceback" not in past.text + garbled.text + no_field.text + no_purpose.text


def test_the_form_offers_each_datasets_own_fields_to_choose_from(browser: TestClient, sign_in: Any) -> None:
    sign_in("uma.uni")

    form = browser.get("/share-requests/new", params={"provider": "health"})

    offered = re.findall(r'name="fields" value="([^"]+)"', form.text)
    assert form.status_code == 200
    assert {"age_group", "sex", "region", "diagnosis_chapter"} <= set(offered)
    assert "patient_id" not in offered, "uma.uni may not see the identified admissions, nor so their fields"
