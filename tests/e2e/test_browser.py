"""People using the pages in a real headless Chromium, against `catalog serve` with the demo landscape, on both
backends: one server per backend for the module, whose tests are written so they do not step on each other (each
write test changes records no other test reads). Every write test ends with `catalog audit verify` on the server's
store, and the module ends with it too.

Screenshots are kept in artifacts/screenshots/ (CI keeps the folder as artifacts). The browser is Debian's
chromium driven by Playwright; Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import apt_install, can_apt_install, skip_or_fail
from tests.e2e.browser import audit_verified, make_change, screenshot, sign_in, tab_at, token_for
from tests.e2e.conftest import BACKENDS, CatalogServer, ServerGroup, fresh_store

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


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogServer]:
    """`catalog serve` after `catalog demo`, one per backend, shared by the module's tests; its audit trail must
    verify when they are done."""
    folder = tmp_path_factory.mktemp(f"browser-{request.param}")
    group = ServerGroup(fresh_store(request, request.param, folder), folder)
    try:
        yield group.start(demo=True)
    finally:
        group.stop_and_verify()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    with tab_at(chromium, 1280) as tab:
        yield tab


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

    # At "fit" a graph wider than its frame is panned to the dataset explored, so the next one may be out of
    # view: a keyboard user reaches it all the same.
    page.focus('[data-graph] a[data-id="health.admissions-deid"]')
    page.keyboard.press("Enter")
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

    assert waiting == 1 and left == 0
    assert status == "APPROVED"
    assert "Your verdict: approve" in verdict and "PERMIT" in verdict
    assert agreement and agreement.startswith("/agreements/agr")
    audit_verified(demo)


def test_an_analyst_asks_for_a_share_and_reads_what_would_have_to_change(page: Any, demo: CatalogServer) -> None:
    sign_in(page, demo, "rui.uni")  # an analyst whose data-ethics training was never recorded
    page.goto(f"{demo.url}/share-requests/new")
    page.select_option("#provider-choice", "health")
    page.click("form.filters button[type=submit]")
    page.check("input[name=dataset_ids][value='health.admissions-deid']")
    page.check("input[name=fields][value='age_group']")
    page.select_option("#purpose", "RESEARCH")
    page.select_option("#access_method", "SECURE_ENCLAVE")
    page.select_option("#article6", "PUBLIC_TASK")
    page.fill("#statute", "Health Records Act 2001 s. 28")
    page.fill("#valid_until", "2030-06-30")
    page.fill("#justification", "Length of stay by region, for the 2026 planning study.")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/share-requests/shr-[^/#]+#decisions$"))
    status = page.locator("h1 .badge").inner_text()
    notice = page.locator("p.notice").inner_text()
    decided = page.locator("#decisions li.decided").first
    outcome = decided.locator(".badge").first.inner_text()
    remedies = decided.locator("ul.remedies li").all_inner_texts()
    screenshot(page, demo, "analyst-share-refused")
    decided.locator("text=The decision in full").click()
    page.wait_for_url(re.compile(r"/decisions/dec-"))
    in_full = page.locator("section[aria-labelledby=remedies] li").all_inner_texts()

    assert status == "DENIED"
    assert "refused" in notice
    assert outcome == "DENY"
    assert remedies and any("training" in r for r in remedies), remedies
    assert in_full == remedies, "the decision's page names the same remedies"
    audit_verified(demo)


def test_a_data_owner_registers_a_dataset_and_then_edits_it(page: Any, demo: CatalogServer) -> None:
    sign_in(page, demo, "carla.city")
    page.goto(f"{demo.url}/datasets/new")
    page.fill("#id", "city.bin-collections")
    page.fill("#title", "Bin collection rounds")
    page.select_option("#owner_agency_id", "city")
    page.select_option("#classification", "OFFICIAL")
    page.select_option("#article6", "PUBLIC_TASK")
    page.fill("#statute", "Local Government Act 1993 s. 24")
    page.check("input[name=permitted_purposes][value=SERVICE_DELIVERY]")
    page.fill("#retention_days", "730")
    page.fill("#fields", "round_id: string\nstreet: string | QUASI_IDENTIFIER | Street name")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/datasets/city\.bin-collections$"))
    registered = page.locator("p.notice").inner_text()
    screenshot(page, demo, "owner-registered-dataset")

    page.goto(f"{demo.url}/datasets/city.bin-collections/edit")
    page.select_option("#classification", "OFFICIAL_SENSITIVE")
    page.fill("#known_limitations", "Rounds missed in storms are not recorded.")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#reason[aria-invalid=true]")
    missing_reason = page.locator("#reason-error").inner_text()
    page.fill("#reason", "Street names with round times show when homes are empty.")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(re.compile(r"/datasets/city\.bin-collections#history$"))
    edited = page.locator("p.notice").inner_text()
    history = page.locator("section[aria-labelledby=history]").inner_text()
    screenshot(page, demo, "owner-edited-dataset")

    assert "city.bin-collections was registered" in registered
    assert missing_reason == "reason: is required when changing classification"
    assert "was updated to version 2" in edited
    assert "Street names with round times show when homes are empty." in history
    assert page.locator("h1").inner_text() == "Bin collection rounds"
    audit_verified(demo)


def test_a_provider_suspends_and_then_revokes_an_agreement(page: Any, demo: CatalogServer) -> None:
    agreement = "agr.health-stats-linkage-run2"  # the demo's four-eyes agreement; health provides it
    sign_in(page, demo, "grace.health")
    page.goto(f"{demo.url}/agreements/{agreement}")
    offered = page.locator("form[data-change]").evaluate_all("forms => forms.map(f => f.dataset.change)")
    make_change(page, "suspend", "Audit of the enclave's export log.")
    suspended = page.locator("h1 .badge").inner_text()
    made = page.locator("#result").inner_text()
    screenshot(page, demo, "provider-suspended-agreement")
    make_change(page, "revoke", "Study ended early.")
    revoked = page.locator("h1 .badge").inner_text()
    left = page.locator("form[data-change]").count()
    screenshot(page, demo, "provider-revoked-agreement")

    assert offered == ["suspend", "revoke", "renew"]
    assert suspended == "SUSPENDED" and "The change was made" in made and "PERMIT" in made
    assert revoked == "REVOKED" and left == 0, "a revoked agreement can be changed no more"
    assert "Study ended early." in page.locator("main").inner_text()
    audit_verified(demo)


def test_a_data_owner_grants_a_role_and_deactivates_a_person_on_their_page(page: Any, demo: CatalogServer) -> None:
    person = f"{demo.url}/people/tom.social"  # a steward of social; no other test here changes him
    sign_in(page, demo, "nora.social")  # an analyst: the policy lets her change nobody
    page.goto(person)
    offered_to_analyst = page.locator("form[data-change]").count()
    sign_in(page, demo, "samira.social")  # social's data owner
    page.goto(person)
    offered = page.locator("form[data-change=roles] input[name=roles][type=checkbox]").evaluate_all(
        "boxes => boxes.map(b => b.value)"
    )
    page.check("#roles-APPROVER")
    make_change(page, "roles", "Covers approvals while Samira is away.")
    granted = page.locator("#result").inner_text()
    facts = page.locator("dl.facts").inner_text()
    screenshot(page, demo, "owner-granted-role")
    make_change(page, "deactivate", "Left the department.", shown="form[data-change=reactivate]")
    heading = page.locator("h1").inner_text()
    deactivated = page.locator("#result").inner_text()
    screenshot(page, demo, "owner-deactivated-person")

    assert offered_to_analyst == 0
    assert sorted(offered) == ["ANALYST", "APPROVER", "DATA_OWNER", "STEWARD"], "the oversight roles are not hers"
    assert "PERMIT" in granted and "grant role" in granted
    assert "STEWARD, APPROVER" in facts
    assert "deactivated" in heading and "PERMIT" in deactivated and "deactivate person" in deactivated
    audit_verified(demo)


def test_a_signed_in_analyst_finds_her_work_on_the_home_page(page: Any, demo: CatalogServer) -> None:
    sign_in(page, demo, "uma.uni")  # uni was told of the demo's correction of the hospital admissions
    page.goto(f"{demo.url}/")
    notices = page.locator("section[aria-labelledby=notices] li.notice-item").all_inner_texts()
    waiting = page.locator("section[aria-labelledby=waiting]").inner_text()
    screenshot(page, demo, "analyst-my-work")
    page.click("section[aria-labelledby=waiting] a[href='/share-requests']")
    page.wait_for_url(re.compile(r"/share-requests$"))
    anonymous = page.context.browser.new_context().new_page()
    anonymous.goto(f"{demo.url}/")
    anonymous_work = anonymous.locator("#my-work").count()
    anonymous.context.close()

    assert len(notices) == 1 and "a dataset you may not see" in notices[0], "the admissions are not hers to see"
    assert "Nothing waits for your verdict" in waiting
    assert anonymous_work == 0
    audit_verified(demo)


# -- a decision's rule tables fit the page ------------------------------------------------------------------------

WIDTHS = (1280, 390)  # a desktop and a phone
# What does not fit on a page, as "where: what" lines: the page scrolling sideways, a rule table wider than its box
# (on a phone a table may scroll inside a box of its own, never the page), a cell whose text spills out, and a word
# (a run of letters, digits and _) split over two lines. A dotted name may break at its dots.
UNFITTING = """(scrollAllowed) => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) found.push(`page: ${root.scrollWidth}px wide in ${root.clientWidth}px`);
  for (const table of document.querySelectorAll("main table")) {
    const rule = table.closest("[data-rule]")?.dataset.rule || "table";
    const box = table.parentElement, style = getComputedStyle(box);
    const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const scrolling = [style.overflowX, getComputedStyle(table).overflowX];
    const scrolls = scrollAllowed && scrolling.some(o => ["auto", "scroll"].includes(o));
    if (table.offsetWidth > room + 1 && !scrolls) found.push(`${rule}: ${table.offsetWidth}px wide in ${room}px`);
    for (const cell of table.querySelectorAll("td")) {
      if (cell.scrollWidth > cell.clientWidth + 1) found.push(`${rule}: "${cell.innerText.slice(0, 40)}" spills out`);
      const texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = texts.nextNode(); node; node = texts.nextNode())
        for (const word of node.data.matchAll(/\\w+/g)) {
          const range = document.createRange();
          range.setStart(node, word.index);
          range.setEnd(node, word.index + word[0].length);
          if (range.getClientRects().length > 1) found.push(`${rule}: "${word[0]}" broken over two lines`);
        }
    }
  }
  return found;
}"""


def test_a_decisions_rule_tables_fit_a_desktop_and_a_phone_without_breaking_words(
    chromium: Any, demo: CatalogServer
) -> None:
    unfitting: dict[str, list[str]] = {}
    checked = tables = 0
    for width in WIDTHS:
        with tab_at(chromium, width) as tab:
            sign_in(tab, demo, "auditor")
            shown: list[str] = []
            for outcome in ("DENY", "PERMIT"):  # a refusal's tables hold the most values seen
                tab.goto(f"{demo.url}/decisions?outcome={outcome}")
                links = tab.locator("main a[href^='/decisions/dec']")
                shown += links.evaluate_all("links => links.map(a => a.getAttribute('href'))")[:6]
            for href in shown:
                tab.goto(demo.url + href)
                tab.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
                checked += 1
                tables += tab.locator("[data-rule] table").count()
                if found := tab.evaluate(UNFITTING, width < 700):
                    unfitting[f"{href} at {width}px"] = found
            screenshot(tab, demo, f"auditor-decision-{width}")

    assert checked >= 2 * len(WIDTHS), "the demo's decisions of both outcomes were looked at"
    assert tables >= checked, "each decision's page shows its rules' conditions"
    assert unfitting == {}, json.dumps(unfitting, indent=1)
    audit_verified(demo)


# Where ids and dates are listed. A date or a time of day never wraps inside itself (a timestamp may wrap between
# the two), and an id never breaks inside a word.
LISTING_PAGES = (
    "/decisions",
    "/agencies/social",
    "/share-requests?view=all",
    "/agreements/agr.social-stats-housing-statistics",
    "/datasets/health.admissions",
)
SPLIT_STAMPS = """() => [...document.querySelectorAll("main time .nowrap")]
  .filter(part => part.getClientRects().length > 1).map(part => `"${part.textContent}" wraps inside itself`)"""


def test_ids_and_dates_in_listings_fit_and_never_wrap_inside_themselves(chromium: Any, demo: CatalogServer) -> None:
    unfitting: dict[str, list[str]] = {}
    stamps = 0
    for width in WIDTHS:
        with tab_at(chromium, width) as tab:
            sign_in(tab, demo, "auditor")
            for where in LISTING_PAGES:
                tab.goto(demo.url + where)
                tab.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
                stamps += tab.locator("main time .nowrap").count()
                if found := [*tab.evaluate(UNFITTING, width < 700), *tab.evaluate(SPLIT_STAMPS)]:
                    unfitting[f"{where} at {width}px"] = found

    assert unfitting == {}, json.dumps(unfitting, indent=1)
    assert stamps >= len(LISTING_PAGES), "the pages show their timestamps as <time> with parts that do not wrap"
    audit_verified(demo)


# A lineage drawing's labels as the explorer shows them at "fit": the smallest label's size on screen, and the
# labels that run out of their node's box.
LABELS = """() => {
  const svg = document.querySelector("[data-graph] svg");
  const scale = svg.getScreenCTM().a;
  const texts = [...svg.querySelectorAll(".node text")];
  const out = [];
  for (const text of texts) {
    const node = text.closest(".node"), shape = node.querySelector("rect, path.shape");
    const t = text.getBBox(), s = shape.getBBox();
    if (t.x < s.x - 0.5 || t.x + t.width > s.x + s.width + 0.5) out.push(`${node.dataset.id}: "${text.textContent}"`);
  }
  const sizes = texts.map(text => parseFloat(getComputedStyle(text).fontSize) * scale);
  return {count: texts.length, smallest: Math.min(...sizes), out};
}"""


def test_lineage_labels_read_at_ten_pixels_or_more_at_fit_and_stay_inside_their_boxes(
    page: Any, demo: CatalogServer
) -> None:
    sign_in(page, demo, "auditor")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{demo.url}/datasets/health.admissions/lineage?direction=BOTH&depth=3")
    page.locator("[data-graph] svg").wait_for()

    labels = page.evaluate(LABELS)

    assert labels["count"] >= 12, "several nodes, each with a badge, a title and a detail line"
    assert labels["smallest"] >= 10, f"the smallest label reads at {labels['smallest']:.1f} px"
    assert labels["out"] == [], labels["out"]


# -- accessibility ------------------------------------------------------------------------------------------------

AXE_VERSION = "4.10.3"
AXE_CACHE = Path(os.environ.get("CATALOG_AXE_CACHE", Path.home() / ".cache" / "public-catalog" / "axe"))
# Who looks at which page: the pages each of them works on (a data owner registers, an analyst asks).
A11Y_PAGES = {
    None: ("/", "/signin", "/datasets"),
    "auditor": (
        "/",
        "/datasets/health.admissions",
        "/datasets/health.admissions/lineage",
        "/datasets/health.admissions/impact",
        "/decisions",
        "/agencies/social",
        "/agreements/agr.social-stats-housing-statistics",
        "/share-requests?view=all",
    ),
    "uma.uni": ("/share-requests/new", "/people/uma.uni"),
    "samira.social": ("/datasets/new", "/datasets/social.housing-cases/edit", "/people/tom.social"),
}
# Pages reached from a list, whose ids the demo makes as it runs: (person, the list, its first link to follow).
A11Y_FOLLOWED = {"auditor": ("/share-requests?view=all", "main a[href^='/share-requests/shr-']")}
SERIOUS = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter(v => ["serious", "critical"].includes(v.impact))
  .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}x, e.g. ${v.nodes[0].target.join(" ")})`)"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core from npm, installed once into a cache outside the repository (never copied into it)."""
    package = AXE_CACHE / "node_modules" / "axe-core"
    manifest = package / "package.json"
    if not (manifest.exists() and json.loads(manifest.read_text())["version"] == AXE_VERSION):
        if shutil.which("npm") is None and can_apt_install():
            apt_install("npm", provides="npm")
        npm = shutil.which("npm")
        if npm is None:
            skip_or_fail("the accessibility check needs npm for axe-core: apt-get install -y npm")
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        command = [str(npm), "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(AXE_CACHE)]
        subprocess.run([*command, f"axe-core@{AXE_VERSION}"], check=True, timeout=600)
    return (package / "axe.min.js").read_text(encoding="utf-8")


def test_every_page_fits_a_desktop_and_a_phone_and_passes_axe(
    chromium: Any, demo: CatalogServer, axe_source: str
) -> None:
    """Each page as those who work on it see it, at 1280 and 390 px: a screenshot, nothing overflowing its box
    (tables, their cells, words, the page itself), and at 1280 px no serious or critical axe-core violation."""
    unfitting: dict[str, list[str]] = {}
    violations: dict[str, list[str]] = {}
    checked = 0
    for width in WIDTHS:
        for person, pages in A11Y_PAGES.items():
            # The checker is injected as a script of the page's own: the test's context lets it past the CSP.
            with tab_at(chromium, width, bypass_csp=True) as tab:
                if person:
                    sign_in(tab, demo, person)
                if person in A11Y_FOLLOWED:
                    listing, link = A11Y_FOLLOWED[person]
                    tab.goto(demo.url + listing)
                    followed = tab.locator(link).first.get_attribute("href")
                    assert followed, f"{listing} links to {link}"
                    pages = (*pages, followed)
                for where in pages:
                    response = tab.goto(demo.url + where)
                    assert response is not None and response.status == 200, f"{where} as {person}"
                    tab.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
                    name = f"{where} as {person or 'anonymous'} at {width}px"
                    checked += 1
                    if found := tab.evaluate(UNFITTING, width < 700):
                        unfitting[name] = found
                    slug = re.sub(r"[^a-z0-9]+", "-", f"{person or 'anonymous'}{where}").strip("-")
                    screenshot(tab, demo, f"page-{slug}-{width}")
                    if width > 700:
                        tab.add_script_tag(content=axe_source)
                        if found := tab.evaluate(SERIOUS):
                            violations[name] = found

    assert checked == len(WIDTHS) * (sum(len(pages) for pages in A11Y_PAGES.values()) + len(A11Y_FOLLOWED))
    assert unfitting == {}, json.dumps(unfitting, indent=1)
    assert violations == {}, json.dumps(violations, indent=1)
