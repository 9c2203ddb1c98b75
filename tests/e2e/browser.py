"""A person at a headless Chromium, for the browser tests: a tab of a given width, signing in with a token the CLI
issued, making a change on a page, screenshots, and the audit trail verified afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.e2e.conftest import REPO, CatalogServer

SCREENSHOTS = REPO / "artifacts" / "screenshots"


@contextmanager
def tab_at(chromium: Any, width: int, **options: Any) -> Iterator[Any]:
    """A tab `width` px wide (900 high) in a browser context of its own, closed with the context after use."""
    context = chromium.new_context(viewport={"width": width, "height": 900}, **options)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    try:
        yield tab
    finally:
        context.close()


TOKENS: dict[tuple[str, str], str] = {}


def token_for(server: CatalogServer, person: str) -> str:
    """A token for `person` on `server`'s store, issued by the CLI once per server and person."""
    if (server.url, person) not in TOKENS:
        result = server.run_cli("token", "issue", "--person", person)
        assert result.returncode == 0, result.stderr
        TOKENS[(server.url, person)] = result.stdout.strip()
    return TOKENS[(server.url, person)]


def audit_verified(server: CatalogServer) -> str:
    """What `catalog audit verify` says of the server's store; fails unless it reports the trail intact."""
    verified = server.run_cli("audit", "verify")
    assert verified.returncode == 0 and "audit trail intact" in verified.stdout, verified.stdout + verified.stderr
    return verified.stdout


def sign_in(page: Any, server: CatalogServer, person: str) -> None:
    """Sign in the way a developer would: paste a token into the sign-in form."""
    page.goto(f"{server.url}/signin")
    page.fill("#token", token_for(server, person))
    page.click("form.stack button[type=submit]")
    page.wait_for_selector(f"header.site >> text={person}")


def make_change(page: Any, change: str, reason: str, shown: str = "#result") -> None:
    """Give a change form on the page its reason and submit it, then wait until the page shows `shown`."""
    page.fill(f"#{change}-reason", reason)
    page.click(f"form[data-change={change}] button[type=submit]")
    page.wait_for_selector(shown)


def screenshot(page: Any, server: CatalogServer, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{server.backend}-{name}.png"), full_page=True)
