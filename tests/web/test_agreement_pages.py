"""An agreement's lifecycle on its page, on both backends with the demo landscape: suspend, resume, renew and revoke,
offered only to those the policy allows, each with its reason. Each test ends with the audit chain verifying."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from catalog.domain import AgreementStatus
from catalog.principal import SYSTEM
from catalog.services import Services
from tests.web.conftest import csrf_of, nothing_written, post_form

pytestmark = pytest.mark.usefixtures("audit_trail_verifies")
LINKAGE = "agr.health-stats-linkage-run2"  # health provides it: grace.health approves for health


def offered(html: str) -> list[str]:
    return re.findall(r'data-change="([a-z]+)"', html)


def change(browser: TestClient, agreement_id: str, verb: str, **fields: str) -> Any:
    return post_form(browser, f"/agreements/{agreement_id}", f"/agreements/{agreement_id}/{verb}", **fields)


def status_of(services: Services, agreement_id: str) -> AgreementStatus:
    return services.agreements.get(SYSTEM, agreement_id).status


def test_a_providers_approver_suspends_resumes_renews_and_revokes_with_reasons(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("ben.stats")
    recipient = browser.get(f"/agreements/{LINKAGE}")
    sign_in("grace.health")
    active = browser.get(f"/agreements/{LINKAGE}")

    suspended = change(browser, LINKAGE, "suspend", reason="Audit of the enclave's export log.")
    shown = browser.get(suspended.headers["location"])
    resumed = change(browser, LINKAGE, "resume", reason="Audit closed, no finding.")
    renewed = change(browser, LINKAGE, "renew", valid_until="2040-06-30", reason="Third wave approved.")
    revoked = change(browser, LINKAGE, "revoke", reason="Study ended early.")
    final = browser.get(revoked.headers["location"])

    assert offered(recipient.text) == [], "the recipient's analyst may change nothing"
    assert offered(active.text) == ["suspend", "revoke", "renew"], "resume only once suspended"
    assert suspended.status_code == resumed.status_code == renewed.status_code == revoked.status_code == 303
    result = re.search(r'id="result".*?</section>', shown.text, re.S)
    assert result and "The change was made" in result.group(0) and "badge permit" in result.group(0)
    assert "suspend agreement" in result.group(0)
    assert "Audit of the enclave&#39;s export log." in shown.text
    assert offered(shown.text) == ["resume", "revoke"]
    assert demo_services.agreements.get(SYSTEM, LINKAGE).valid_until.year == 2040
    assert status_of(demo_services, LINKAGE) == AgreementStatus.REVOKED
    assert offered(final.text) == [] and "Study ended early." in final.text


def test_a_change_with_bad_input_names_the_field_and_writes_nothing(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("grace.health")

    with nothing_written(demo_services):
        no_reason = change(browser, LINKAGE, "suspend", reason="  ")
        no_date = change(browser, LINKAGE, "renew", reason="kept")
        past = change(browser, LINKAGE, "renew", valid_until="2020-01-01")

    assert no_reason.status_code == no_date.status_code == past.status_code == 400
    assert re.search(
        r'id="suspend-reason" name="reason"[^>]*aria-invalid="true"[^>]*>\s*</textarea></label>\s*'
        r'<p class="field-error"[^>]*>reason: is required',
        no_reason.text,
    )
    assert re.search(
        r'id="renew-until"[^>]*value=""[^>]*aria-invalid="true"[^>]*></label>\s*'
        r'<p class="field-error"[^>]*>valid_until: is required',
        no_date.text,
    )
    assert ">kept</textarea>" in no_date.text, "what was typed is shown again"
    assert re.search(r'<p class="field-error"[^>]*>valid_until: must be in the future', past.text)
    assert "Traceback" not in no_reason.text + no_date.text + past.text
    assert status_of(demo_services, LINKAGE) == AgreementStatus.ACTIVE


def test_a_forged_change_is_refused_with_its_decision_and_a_hidden_agreement_is_not_found(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("ben.stats")
    forged = change(browser, LINKAGE, "suspend", reason="I would rather not.")
    sign_in("uma.uni")
    page = browser.get("/agreements/agr.health-uni-research")
    hidden = browser.post(
        "/agreements/agr.social-stats-housing-statistics/revoke", data={"csrf_token": csrf_of(page.text), "reason": "x"}
    )
    missing = browser.post("/agreements/agr.none/revoke", data={"csrf_token": csrf_of(page.text), "reason": "x"})

    assert forged.status_code == 403
    result = re.search(r'id="result".*?</section>', forged.text, re.S)
    assert result and "The change was refused" in result.group(0) and "badge deny" in result.group(0)
    assert status_of(demo_services, LINKAGE) == AgreementStatus.ACTIVE
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text.replace("agr.social-stats-housing-statistics", "ID") == missing.text.replace("agr.none", "ID")
    assert status_of(demo_services, "agr.social-stats-housing-statistics") == AgreementStatus.REVOKED
