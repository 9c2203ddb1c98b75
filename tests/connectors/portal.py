"""A small CKAN portal on loopback, serving real data.gov.uk packages through a real HTTP server.

It implements what the CKAN connector uses of the Action API (package_search with rows/start/sort/fq on
metadata_modified, organization_list with all_fields/limit/offset, organization_show), caps rows like a real
portal, and can misbehave on request: bad JSON, missing fields, 500s, 429 with Retry-After, a hanging
response, a portal that ignores `start`.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

HOST = "127.0.0.1"
HELP = "https://ckan.publishing.service.gov.uk/api/3/action/help_show?name="
# The five organisations that publish the fixture packages, by CKAN name.
PUBLISHERS = {
    "eidc": "Environmental Information Data Centre",
    "colchester-borough-council": "Colchester Borough Council",
    "centre-for-environment-fisheries-aquaculture-science": "Centre for Environment, Fisheries & Aquaculture Science",
    "british-geological-survey": "British Geological Survey",
    "cabinet-office": "Cabinet Office",
}
_SINCE = re.compile(r"metadata_modified:\[(\S+) TO \*\]")


def load_packages(ckan_dir: Path) -> list[dict[str, Any]]:
    """Six real packages from data.gov.uk: four from a search page, two from package_show responses."""
    responses = ckan_dir / "responses"
    packages = json.loads((responses / "package_search.json").read_text())["result"]["results"]
    packages.append(json.loads((responses / "package_show.json").read_text())["result"])
    packages.append(
        json.loads((responses / "stable" / "package_show.inner.civil-service-people-survey-2011.json").read_text())
    )
    return packages


def load_organizations(ckan_dir: Path, packages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The publishers' organisations as the packages embed them, plus Network Rail (which publishes none here)."""
    found = {p["organization"]["name"]: p["organization"] for p in packages}
    found["network-rail"] = json.loads((ckan_dir / "responses" / "organization_show.json").read_text())["result"]
    return [found[name] for name in sorted(found)]


@dataclass
class Fault:
    """How one request goes wrong. `times` counts down; 0 left means the fault is spent."""

    kind: str  # "bad-json" | "status" | "hang" | "success-false"
    status: int = 500
    retry_after: str | None = None
    times: int = 1_000_000


@dataclass
class Portal:
    packages: list[dict[str, Any]]
    organizations: list[dict[str, Any]]
    max_rows: int = 1000
    ignore_start: bool = False
    names_only: bool = False  # an old portal: organization_list ignores all_fields
    # (action, start or offset) -> fault; start None matches every page of that action.
    faults: dict[tuple[str, int | None], Fault] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    stop: threading.Event = field(default_factory=threading.Event)

    def package(self, name: str) -> dict[str, Any]:
        return next(p for p in self.packages if p["name"] == name)

    def searches(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["action"] == "package_search"]

    # -- the Action API ----------------------------------------------------------------------------------

    def package_search(self, params: dict[str, str]) -> dict[str, Any]:
        found = sorted(self.packages, key=lambda p: (p.get("metadata_modified", ""), p.get("name", "")))
        since = _SINCE.search(params.get("fq", ""))
        if since:
            # Solr compares instants; the fixtures' timestamps are naive UTC with microseconds.
            bound = since.group(1).rstrip("Z")
            found = [p for p in found if p.get("metadata_modified", "") >= bound]
        rows = min(int(params.get("rows", "10")), self.max_rows)
        start = 0 if self.ignore_start else int(params.get("start", "0"))
        return {
            "count": len(found),
            "sort": params.get("sort", "score desc, metadata_modified desc"),
            "facets": {},
            "results": copy.deepcopy(found[start : start + rows]),
            "search_facets": {},
        }

    def organization_list(self, params: dict[str, str]) -> list[Any]:
        limit, offset = int(params.get("limit", "25")), int(params.get("offset", "0"))
        page = self.organizations[offset : offset + limit]
        if params.get("all_fields") == "true" and not self.names_only:
            return copy.deepcopy(page)
        return [o["name"] for o in page]

    def organization_show(self, params: dict[str, str]) -> dict[str, Any] | None:
        return next((copy.deepcopy(o) for o in self.organizations if o["name"] == params.get("id")), None)


def _handler(portal: Portal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _fault(self, action: str, params: dict[str, str]) -> Fault | None:
            position = params.get("start", params.get("offset"))
            for key in ((action, int(position) if position is not None else None), (action, None)):
                fault = portal.faults.get(key)
                if fault and fault.times > 0:
                    fault.times -= 1
                    return fault
            return None

        def do_GET(self) -> None:
            url = urlparse(self.path)
            action = url.path.rsplit("/", 1)[-1]
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            portal.requests.append({"action": action, **params})
            fault = self._fault(action, params)
            if fault and fault.kind == "hang":
                portal.stop.wait(30)
                return
            if fault and fault.kind == "bad-json":
                self._send(200, b'{"help": "x", "success": true, "result": {"count": 3, "results": [')
                return
            if fault and fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(fault.status, b'{"success": false, "error": {"message": "try later"}}', headers)
                return
            handler = getattr(portal, action, None) if not action.startswith("_") else None
            if handler is None or url.path != f"/api/3/action/{action}":
                self._send(404, b'{"success": false, "error": {"message": "Not found"}}')
                return
            result = handler(params)
            if result is None or (fault and fault.kind == "success-false"):
                self._send(409, b'{"success": false, "error": {"message": "Not found", "__type": "Not Found Error"}}')
                return
            self._send(200, json.dumps({"help": HELP + action, "success": True, "result": result}).encode())

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hanging handler must not hold up the test's teardown


def serve(portal: Portal) -> Iterator[Portal]:
    """Serve the portal on a free loopback port for the duration of the generator."""
    server = _Server((HOST, 0), _handler(portal))
    portal.url = f"http://{HOST}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield portal
    finally:
        portal.stop.set()
        server.shutdown()
        server.server_close()
