"""A person's page: granting and withdrawing roles and deactivating or reactivating a person, on both backends with
the demo landscape. Offered only to those the policy lets do it; done, the page shows the decisions the change made;
refused (a forged post), it says why in plain words and links the recorded decision; bad input names the field and
writes nothing; a person the viewer may not see answers as a person that does not exist."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from catalog.domain import Outcome, Role
from catalog.principal import SYSTEM
from catalog.services import Services
from catalog.services.audit_trail import verify_store, written_count
from tests.web.test_work_pages import decisions_of, error_beside, last_event, post_from, refusal_shown

NORA = "/people/nora.social"  # an analyst of social, whose data owner is samira.social; tom.social is a steward there


def roles_of(services: Services, person_id: str) -> list[str]:
    return [role.value for role in services.reads.person(SYSTEM, person_id).roles]


def offered_roles(html: str) -> list[str]:
    """The roles the page's roles form lets the viewer tick or untick."""
    form = re.search(r'<form[^>]*data-change="roles".*?</form>', html, re.S)
    assert form, "no roles form"
    return re.findall(r'<input type="checkbox" name="roles" value="([A-Z_]+)"(?![^>]*disabled)', form.group(0))


def result_shown(html: str) -> str:
    card = re.search(r'id="result".*?</section>', html, re.S)
    assert card, "no result card"
    assert re.search(r'href="/decisions/[^"]+">The decision in full', card.group(0))
    return card.group(0)


def test_a_data_owner_grants_and_withdraws_an_agency_role_and_sees_the_decisions(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("samira.social")
    page = browser.get(NORA)
    granted = post_from(browser, NORA, f"{NORA}/roles", roles=["ANALYST", "STEWARD"], reason="Takes over the registry.")
    shown = browser.get(granted.headers["location"])
    after_grant = roles_of(demo_services, "nora.social")
    withdrawn = post_from(browser, NORA, f"{NORA}/roles", roles=["ANALYST"], reason="Back to analysis.")
    unchanged = post_from(browser, NORA, f"{NORA}/roles", roles=["ANALYST"])

    assert sorted(offered_roles(page.text)) == ["ANALYST", "APPROVER", "DATA_OWNER", "STEWARD"], "not oversight roles"
    assert granted.status_code == 303
    assert re.fullmatch(r"/people/nora\.social\?decided=dec-[^#]+#result", granted.headers["location"])
    card = result_shown(shown.text)
    assert "badge permit" in card and "grant role" in card
    assert after_grant == ["ANALYST", "STEWARD"]
    assert withdrawn.status_code == 303 and roles_of(demo_services, "nora.social") == ["ANALYST"]
    event = last_event(demo_services, "set_roles")
    assert event["principal_id"] == "samira.social" and "Back to analysis." in str(event)
    assert unchanged.status_code == 303 and "decided=" not in unchanged.headers["location"], "nothing to decide"
    assert verify_store(demo_services.store).intact


def test_someone_the_policy_does_not_allow_sees_no_role_form_and_a_forged_post_is_refused(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    sign_in("tom.social")  # a steward, not a data owner
    page = browser.get(NORA)
    forged = post_from(browser, NORA, f"{NORA}/roles", roles=["ANALYST", "DATA_OWNER"])
    sign_in("samira.social")
    oversight = post_from(browser, NORA, f"{NORA}/roles", roles=["ANALYST", "AUDITOR"])
    own = browser.get("/people/samira.social")
    before = written_count(demo_services.store)
    unknown = post_from(browser, NORA, f"{NORA}/roles", roles=["ANALYST", "WIZARD"])
    nothing_written = written_count(demo_services.store) == before

    assert 'data-change="roles"' not in page.text and 'data-change="deactivate"' not in page.text
    assert forged.status_code == 403
    card = refusal_shown(forged.text, "roles-refused")
    assert "Granting or withdrawing the role DATA_OWNER of nora.social is not permitted" in card, "in plain words"
    assert "Ask a data owner of social to do it" in card, "and what would have to change"
    assert [d.outcome for d in decisions_of(demo_services, "grant_role", "tom.social")] == [Outcome.DENY]
    assert oversight.status_code == 403
    assert "AUDITOR is an oversight role" in refusal_shown(oversight.text, "roles-refused")
    assert roles_of(demo_services, "nora.social") == ["ANALYST"], "nothing changed"
    assert 'data-change="roles"' not in own.text, "nobody is offered their own roles"
    assert unknown.status_code == 400 and nothing_written
    assert error_beside(unknown.text, "roles-ANALYST", "roles.1: must be one of")
    assert re.search(r'value="WIZARD"', unknown.text) is None and 'value="ANALYST" checked' in unknown.text
    assert verify_store(demo_services.store).intact


def test_a_data_owner_deactivates_and_reactivates_a_person_with_a_reason(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    page_url = "/people/tom.social"
    sign_in("nora.social")  # an analyst
    nora_sees = browser.get(page_url)
    forged = post_from(browser, page_url, f"{page_url}/deactivate", reason="I want to.")
    sign_in("samira.social")
    offered = browser.get(page_url)
    no_reason = post_from(browser, page_url, f"{page_url}/deactivate", reason="  ")
    done = post_from(browser, page_url, f"{page_url}/deactivate", reason="Left the department.")
    shown = browser.get(done.headers["location"])
    deactivated = demo_services.reads.person(SYSTEM, "tom.social").active
    back = post_from(browser, page_url, f"{page_url}/reactivate", reason="Returned from leave.")
    auditor = browser.get("/people/auditor")
    oversight = post_from(browser, "/people/auditor", "/people/auditor/deactivate", reason="Testing.")

    assert 'data-change="deactivate"' not in nora_sees.text
    assert forged.status_code == 403 and "Deactivating tom.social is not permitted" in refusal_shown(
        forged.text, "status-refused"
    )
    assert 'data-change="deactivate"' in offered.text and 'data-change="reactivate"' not in offered.text
    assert no_reason.status_code == 400
    assert error_beside(no_reason.text, "deactivate-reason", "reason: is required: say why the person is deactivated")
    assert done.status_code == 303 and "decided=dec-" in done.headers["location"]
    assert "badge permit" in result_shown(shown.text) and "deactivated" in shown.text
    assert 'data-change="reactivate"' in shown.text, "a deactivated person is offered reactivation instead"
    assert deactivated is False
    assert back.status_code == 303 and demo_services.reads.person(SYSTEM, "tom.social").active
    assert 'data-change="deactivate"' not in auditor.text, "an auditor is a platform administrator's to deactivate"
    assert oversight.status_code == 403 and "holds an oversight role" in refusal_shown(oversight.text, "status-refused")
    assert demo_services.reads.person(SYSTEM, "auditor").active
    assert verify_store(demo_services.store).intact


def test_a_person_the_viewer_may_not_see_answers_exactly_like_one_that_does_not_exist(
    browser: TestClient, sign_in: Any
) -> None:
    def same(response: Any, person_id: str) -> tuple[int, str]:
        return response.status_code, response.text.replace(person_id, "ID")

    # Anonymous visitors see nobody in the staff directory.
    hidden = browser.get(NORA)
    missing = browser.get("/people/nobody.here")
    hidden_post = post_from(browser, "/signin", f"{NORA}/roles", roles=["ANALYST"])
    missing_post = post_from(browser, "/signin", "/people/nobody.here/roles", roles=["ANALYST"])
    hidden_off = post_from(browser, "/signin", f"{NORA}/deactivate", reason="x")
    missing_off = post_from(browser, "/signin", "/people/nobody.here/deactivate", reason="x")
    sign_in("samira.social")
    signed_in_missing = post_from(browser, "/signin", "/people/nobody.here/roles", roles=["ANALYST"])

    assert hidden.status_code == 404 and same(hidden, "nora.social") == same(missing, "nobody.here")
    assert "Nora Ahmed" not in hidden.text
    assert same(hidden_post, "nora.social") == same(missing_post, "nobody.here")
    assert same(hidden_off, "nora.social") == same(missing_off, "nobody.here")
    assert hidden_post.status_code in (401, 404) and "Nora" not in hidden_post.text
    assert signed_in_missing.status_code == 404


def test_every_role_is_a_choice_on_the_form(browser: TestClient, sign_in: Any) -> None:
    sign_in("admin")  # a platform administrator may grant the oversight roles too

    page = browser.get(NORA)

    assert sorted(offered_roles(page.text)) == sorted(role.value for role in Role)


def test_the_training_form_is_offered_only_to_those_the_policy_lets_record_it(
    browser: TestClient, sign_in: Any
) -> None:
    sign_in("tom.social")  # a steward: training is recorded by the agency's data owners
    steward = browser.get(NORA)
    sign_in("samira.social")
    owner = browser.get(NORA)
    oversight = browser.get("/people/auditor")  # an auditor's training is a platform administrator's to record

    assert 'id="training"' not in steward.text
    assert 'id="training"' in owner.text
    assert 'id="training"' not in oversight.text
