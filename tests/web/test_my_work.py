"""A signed-in person's "my work" on the home page, on both backends with the demo landscape: the share requests
waiting for their verdict, their agency's agreements that expire soon, and the correction notices addressed to their
agency; each read through the services' policy gate, capped, with a link to the full list."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

from catalog.principal import SYSTEM
from catalog.services import Services

SOON = "agr.city-stats-service-requests"  # city provides it to stats; the demo has it expired six days ago


def section(html: str, anchor: str) -> str:
    found = re.search(rf'<section[^>]*aria-labelledby="{anchor}".*?</section>', html, re.S)
    assert found, f"no section {anchor}"
    return found.group(0)


def renewed_to_expire_soon(services: Services) -> None:
    provider = services.people.principal("carla.city")
    services.agreements.renew(provider, SOON, services.ctx.clock() + timedelta(days=20), "Bridging to the new one.")


def test_a_steward_sees_what_waits_for_her_what_expires_soon_and_the_notices_to_her_agency(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    renewed_to_expire_soon(demo_services)
    sign_in("carla.city")  # city's data owner and steward: the demo's second request for its data waits for her

    home = browser.get("/")

    waiting = section(home.text, "waiting")
    assert len(re.findall(r'href="/share-requests/shr-', waiting)) == 1
    assert 'href="/share-requests"' in waiting, "the link to the whole queue"
    expiring = section(home.text, "expiring")
    assert f'href="/agreements/{SOON}"' in expiring and re.search(r"expires in (19|20) days", expiring)
    assert "agr.health" not in expiring, "only her agency's agreements"
    assert 'href="/agencies/city"' in expiring, "the link to her agency's register"
    assert "No correction notice" in section(home.text, "notices"), "the demo's correction told health, stats and uni"


def test_an_analyst_reads_the_notices_to_her_agency_and_nothing_of_others(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    renewed_to_expire_soon(demo_services)
    sign_in("uma.uni")  # uni was told of the demo's correction of the hospital admissions

    home = browser.get("/")

    notices = section(home.text, "notices")
    assert notices.count('class="notice-item"') == 1
    assert 'href="/datasets/health.admissions"' not in notices, "a dataset she may not see is not linked"
    assert "Nothing waits for your verdict" in section(home.text, "waiting")
    assert SOON not in home.text, "another agency's agreement is not hers to see"


def test_the_notices_are_capped_with_a_link_to_the_next_page(
    browser: TestClient, sign_in: Any, demo_services: Services
) -> None:
    for n in range(7):
        demo_services.corrections.issue(SYSTEM, "health.admissions", f"Correction number {n}.", "MINOR")
    sign_in("uma.uni")

    first = browser.get("/")
    more = re.search(r'<a[^>]*href="(/\?notices_after=[^"]+)"', first.text)
    assert more, "a link to the next page of notices"
    second = browser.get(more.group(1).replace("&amp;", "&"))

    shown = re.findall(r"Correction number (\d)", section(first.text, "notices"))
    later = re.findall(r"Correction number (\d)", section(second.text, "notices"))
    assert len(section(first.text, "notices").split('class="notice-item"')) - 1 == 5
    assert set(shown).isdisjoint(later) and len(shown) + len(later) == 7


def test_an_anonymous_visitor_has_no_work_section(browser: TestClient) -> None:
    home = browser.get("/")

    assert 'aria-labelledby="my-work"' not in home.text
    assert home.status_code == 200
