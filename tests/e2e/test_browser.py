"""People using the pages in a real headless Chromium, against `catalog serve` with the demo landscape.

Screenshots are kept in artifacts/screenshots/ (CI keeps the folder as artifacts). The browser is Debian's
chromium driven by Playwright; Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import apt_install, can_apt_install
from tests.e2e.conftest import REPO, CatalogServer, StartServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for this module. Not for the session: Playwright's sync API keeps an event loop
    running on the main thread while it is open, which would break `asyncio.run` in every later test."""
    if not CHROMIUM.exists():
        if can_apt_install():
            apt_install("chromium")  # a fresh CI machine has no browser yet
        else:
            pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo(start_server: StartServer) -> CatalogServer:
    return start_server(demo=True)


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def token_for(server: CatalogServer, person: str) -> str:
    result = server.run_cli("token", "issue", "--person", person)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def sign_in(page: Any, server: CatalogServer, person: str) -> None:
    """Sign in the way a developer would: paste a token into the sign-in form."""
    page.goto(f"{server.url}/signin")
    page.fill("#token", token_for(server, person))
    page.click("form.stack button[type=submit]")
    page.wait_for_selector(f"header.site >> text={person}")


def screenshot(page: Any, server: CatalogServer, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{server.backend}-{name}.png"), full_page=True)


def test_an_auditor_follows_downstream_lineage_from_a_source_dataset(page: Any, demo: CatalogServer) -> None:
    sign_in(page, demo, "auditor")
    page.goto(f"{demo.url}/datasets")
    page.fill("#q", "admitted")
    page.click("form.filters button[type=submit]")
    page.click("a.title >> text=Hospital Admitted Patient Care")
    page.click("nav.tabs >> text=Lineage")
    page.select_option("#direction", "DOWNSTREAM")
    page.fill("#depth", "4")
    page.click(".graph-toolbar button[type=submit]")
    graph = page.locator("[data-graph] svg")
    graph.wait_for()
    drawn = page.locator("[data-graph] [data-id]").evaluate_all("nodes => nodes.map(n => n.dataset.id)")
    screenshot(page, demo, "auditor-lineage-downstream")

    page.click('[data-graph] a[data-id="health.admissions-deid"]')
    page.wait_for_url(re.compile(r"/datasets/health\.admissions-deid/lineage\?direction=DOWNSTREAM"))
    root = page.locator("[data-graph] .root").get_attribute("data-id")
    screenshot(page, demo, "auditor-lineage-recentred")

    assert {
        "health.admissions",
        "health.admissions-deid",
        "stats.hospital-activity",
        "stats.health-housing-cohort",
    } <= set(drawn)
    assert "proc.health-deidentify" in drawn
    assert root == "health.admissions-deid"
    assert page.locator("h1").inner_text() == "Lineage of Hospital Admissions, De-identified Research Extract"


def test_the_graph_pans_and_zooms_and_its_nodes_take_keyboard_focus(page: Any, demo: CatalogServer) -> None:
    sign_in(page, demo, "auditor")
    page.goto(f"{demo.url}/datasets/health.admissions/lineage?direction=BOTH&depth=3")
    graph = page.locator("[data-graph] svg")
    before = graph.get_attribute("viewBox")

    page.click('button[data-zoom="in"]')
    zoomed = graph.get_attribute("viewBox")
    page.focus("[data-graph]")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('.node') && document.activeElement.dataset.id")

    assert before != zoomed
    assert float(zoomed.split()[2]) < float(before.split()[2]), "zooming in shows less of the graph"
    assert focused, "Tab moves from the graph onto its first node"


def test_the_impact_view_lists_the_recipient_agencies(page: Any, demo: CatalogServer) -> None:
    sign_in(page, demo, "auditor")
    page.goto(f"{demo.url}/datasets/health.admissions")
    page.click("nav.tabs >> text=Impact")

    recipients = page.locator("#recipient-list li").all_inner_texts()
    screenshot(page, demo, "auditor-impact")

    assert sorted(recipients) == [
        "National Statistics Office",  # the linkage agreements, on admissions itself
        "Northbridge University, Centre for Population Health Research",
    ]
    assert page.locator("text=agr.health-uni-research").count() >= 1


def test_an_analyst_sees_restricted_nodes_redacted(page: Any, demo: CatalogServer) -> None:
    sign_in(page, demo, "uma.uni")
    page.goto(f"{demo.url}/datasets/health.admissions-deid")
    page.click("nav.tabs >> text=Lineage")
    page.select_option("#direction", "UPSTREAM")
    page.click(".graph-toolbar button[type=submit]")
    page.locator("[data-graph] svg").wait_for()

    redacted = page.locator("[data-graph] .redacted")
    redacted_id = redacted.first.get_attribute("data-id")
    screenshot(page, demo, "analyst-lineage-redacted")

    assert redacted.count() == 1
    assert redacted_id and redacted_id.startswith("redacted-")
    assert redacted.first.evaluate("n => n.tagName.toLowerCase()") == "g", "a redacted node links nowhere"
    assert "Hospital Admitted Patient Care" not in page.content()
    nodes_table = page.locator("#as-table ~ table").first
    assert nodes_table.locator(f"text={redacted_id}").count() == 1, "the text alternative lists it too"


def test_a_denied_decision_shows_the_failing_safe_and_the_rule(page: Any, demo: CatalogServer) -> None:
    sign_in(page, demo, "rui.uni")  # an analyst with no data-ethics training
    page.goto(f"{demo.url}/datasets/health.admissions-deid")
    page.select_option("#purpose", "RESEARCH")
    page.select_option("#access_method", "SECURE_ENCLAVE")
    page.click("text=Check access")
    page.wait_for_url(re.compile(r"/decisions/dec-"))

    outcome = page.locator("h1 .outcome").inner_text()
    failing = page.locator("ul.checklist > li.fail")
    failing_text = failing.all_inner_texts()
    rule = page.locator('[data-rule="access-five-safes"]')
    failed_row = rule.locator("tr.failed").first.inner_text()
    described = rule.locator("text=A partner agency's trained analyst").count()
    screenshot(page, demo, "denied-decision")

    page.click("text=Hospital Admissions, De-identified Research Extract")
    page.wait_for_url(re.compile(r"/datasets/health\.admissions-deid$"))

    assert outcome == "DENY"
    assert len(failing_text) == 1 and failing_text[0].startswith("✗") and "Safe people" in failing_text[0]
    assert "people.training_current" in failing_text[0]
    assert "people.training_current" in failed_row and "false" in failed_row
    assert described == 1, "the rule is named with its description"


def test_keyboard_users_can_skip_to_the_content(page: Any, demo: CatalogServer) -> None:
    page.goto(f"{demo.url}/datasets")

    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    target = page.evaluate("document.activeElement.id")

    assert first == "Skip to main content"
    assert target == "main"


def test_the_graphql_console_runs_a_query_with_the_outside_network_blocked(page: Any, demo: CatalogServer) -> None:
    outside: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(demo.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(f"{demo.url}/graphql")
    page.fill("#token", token_for(demo, "uma.uni"))
    page.fill("#query", "{ me { id } datasets(first: 1) { totalCount } }")
    page.click("#run")
    page.wait_for_selector("#result >> text=totalCount")
    answer = json.loads(page.locator("#result").inner_text())
    screenshot(page, demo, "graphql-console")

    assert outside == []
    assert answer["data"]["me"] == {"id": "uma.uni"} and answer["data"]["datasets"]["totalCount"] > 0


def test_a_steward_approves_a_request_from_the_queue(page: Any, demo: CatalogServer) -> None:
    sign_in(page, demo, "carla.city")  # the demo's second request for the council's service requests waits for her
    page.goto(f"{demo.url}/share-requests")
    waiting = page.locator("table.queue tbody tr[data-request]").count()
    page.click("table.queue tbody tr[data-request] a[href^='/share-requests/']")
    page.wait_for_url(re.compile(r"/share-requests/shr-"))
    page.fill("#approve-note", "Approved for the next two quarters.")
    page.fill("#approve-conditions", "Aggregate figures only")
    page.click("form[action$='/approve'] button[type=submit]")
    page.wait_for_selector("#verdict")
    status = page.locator("h1 .badge").inner_text()
    verdict = page.locator("#verdict").inner_text()
    agreement = page.locator("main a[href^='/agreements/']").first.get_attribute("href")
    screenshot(page, demo, "steward-approved-request")
    page.goto(f"{demo.url}/share-requests")
    left = page.locator("table.queue tbody tr[data-request]").count()
    verified = demo.run_cli("audit", "verify")

    assert waiting == 1 and left == 0
    assert status == "APPROVED"
    assert "Your verdict: approve" in verdict and "PERMIT" in verdict
    assert agreement and agreement.startswith("/agreements/agr")
    assert verified.returncode == 0, verified.stdout + verified.stderr
