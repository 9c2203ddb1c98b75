"""The particulars a public register names, on both backends: asked for on the share request form, kept with the
agreement the request yields, and shown on the agreement's page."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.testclient import TestClient

from catalog.principal import SYSTEM, Principal
from catalog.services import Services
from tests.web.conftest import csrf_of

GIVEN = {
    "particulars.title": "Population estimates for the health centre",
    "particulars.summary": "Small-area population counts as denominators for admission rates.",
    "particulars.expected_benefits": "Comparable admission rates across regions.",
    "particulars.dpia_summary": "No personal data: counts only.",
    "particulars.security_measures": "Downloaded to managed storage at the centre.",
    "particulars.retention": "Until the next census release.",
    "particulars.frequency": "ONCE_OFF",
    "particulars.review_date": "2026-12-01",
}


def test_particulars_from_the_form_are_shown_on_the_agreement_page(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("uma.uni")
    form = browser.get("/share-requests/new", params={"provider": "stats"})
    posted = browser.post(
        "/share-requests/new",
        data={
            "csrf_token": csrf_of(form.text),
            "provider": "stats",
            "dataset_ids": "stats.population-estimates",
            "purpose": "RESEARCH",
            "access_method": "DOWNLOAD",
            "legal_basis.article6": "PUBLIC_TASK",
            "valid_until": "2030-01-01",
            **GIVEN,
        },
    )
    request_id = posted.headers["location"].split("/")[-1].split("#")[0]
    steward = demo_services.reads.person(SYSTEM, "priya.stats")
    approved = demo_services.sharing.approve(
        Principal(steward.id, steward.agency_id, frozenset(steward.roles)), request_id
    )
    page = browser.get(f"/agreements/{approved.agreement_id}")

    assert 'name="particulars.expected_benefits"' in form.text
    assert posted.status_code == 303, posted.text
    kept = demo_services.agreements.get(SYSTEM, str(approved.agreement_id)).particulars
    assert (kept.title, kept.frequency and kept.frequency.value) == (GIVEN["particulars.title"], "ONCE_OFF")
    assert page.status_code == 200
    section = page.text.split('id="particulars"', 1)[1].split("</section>", 1)[0]
    for name in ("title", "summary", "expected_benefits", "dpia_summary", "security_measures", "retention"):
        assert escape(GIVEN[f"particulars.{name}"]) in section, name
    assert "once-off" in section and "2026" in section
