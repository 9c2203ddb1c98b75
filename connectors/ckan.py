"""Harvest a CKAN portal (data.gov.uk, data.gov, ...) through its Action API: organisations become agencies,
packages become datasets with their tags, licence, resources (as distributions) and extras.

Packages are read with `package_search`, paged with rows/start in order of `metadata_modified`, so an
incremental run asks only for what changed since the newest change already harvested from this portal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from catalog.domain import Agency, Dataset, Distribution, Extra, Licence, is_http_url, parse_model
from catalog.errors import CatalogError, InvalidInput
from connectors.base import Connector, ConnectorConfig, ConnectorContext, Record
from connectors.http import HttpFetcher, HttpSettings, UpstreamError
from connectors.records import AgencyRecord, DatasetRecord

MAX_TEXT = 20_000
MAX_TITLE = 500
MAX_TAG = 100
# Core CKAN fields with no place of their own in the catalog: kept as extras so nothing the source said is lost.
CORE_EXTRAS = ("url", "author", "author_email", "maintainer", "maintainer_email", "version")
SORT = "metadata_modified asc, name asc"


class CkanConfig(HttpSettings, ConnectorConfig):
    url: str = Field(description="The portal's address, e.g. https://ckan.publishing.service.gov.uk")
    rows: int = Field(1000, ge=1, le=1000, description="Packages asked for per page (portals may cap it lower).")
    query: str = Field("*:*", description="package_search `q`.")
    filter: str | None = Field(None, description="package_search `fq`, e.g. organization:cabinet-office.")
    incremental: bool = Field(True, description="Ask only for packages modified since the last harvest.")
    organizations: Literal["publishing", "all"] = Field(
        "publishing", description="Register the organisations that publish a harvested package, or all of them."
    )
    id_prefix: str = Field("", description="Prepended to agency and dataset ids, to keep portals apart.")
    open_classification: str = Field("PUBLIC", description="Classification of open, non-private packages.")
    closed_classification: str = Field("OFFICIAL", description="Classification of every other package.")

    @field_validator("url")
    @classmethod
    def _a_web_address(cls, value: str) -> str:
        if not is_http_url(value.strip()):
            raise ValueError("must be an absolute http(s) URL")
        return value


def portal_root(url: str) -> str:
    """The portal's base URL, whether given with or without its /api/3/action suffix."""
    root = url.strip().rstrip("/")
    return re.sub(r"/api(/3)?(/action)?$", "", root)


def parse_time(value: Any) -> datetime | None:
    """A CKAN timestamp (ISO 8601, naive means UTC) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def solr_time(value: datetime) -> str:
    """A Solr date, floored to the millisecond so the newest harvested package is asked for again (and skipped)."""
    floored = value.astimezone(UTC) - timedelta(microseconds=value.microsecond % 1000)
    return floored.strftime("%Y-%m-%dT%H:%M:%S.") + f"{floored.microsecond // 1000:03d}Z"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _web(value: Any) -> str | None:
    url = _text(value)
    return url if is_http_url(url) else None


def _clip(value: str, limit: int, what: str, warnings: list[str]) -> str:
    if len(value) <= limit:
        return value
    warnings.append(f"{what} cut to {limit} characters (it had {len(value)})")
    return value[:limit]


def agency_from_organization(org: Any, prefix: str) -> Agency:
    """A CKAN organisation as an agency. Raises InvalidInput naming the missing field."""
    if not isinstance(org, dict):
        raise InvalidInput("organization", "is required (the package names no owning organisation)")
    name = _text(org.get("name"))
    if not name:
        raise InvalidInput("organization.name", "is required")
    title = _text(org.get("title")) or _text(org.get("display_name")) or name
    return parse_model(Agency, {"id": prefix + name, "name": title[:MAX_TITLE]}, prefix="organization.")


def _distributions(package: dict[str, Any], warnings: list[str]) -> list[Distribution]:
    found = []
    for position, resource in enumerate(package.get("resources") or []):
        if not isinstance(resource, dict) or not _text(resource.get("url")):
            warnings.append(f"resource {position} has no url; left out")
            continue
        if not is_http_url(_text(resource["url"])):
            warnings.append(f"resource {position} url is not an http(s) URL; left out")
            continue
        found.append(
            Distribution(
                title=_clip(_text(resource.get("name")), MAX_TITLE, f"resource {position} name", warnings),
                description=_clip(_text(resource.get("description")), MAX_TEXT, "resource description", warnings),
                access_url=_text(resource["url"]),
                download_url=_web(resource.get("download_url")),
                format=_text(resource.get("format"))[:100],
                media_type=_text(resource.get("mimetype"))[:200],
            )
        )
    return found


def _extras(package: dict[str, Any], warnings: list[str]) -> list[Extra]:
    pairs: dict[str, str] = {}
    for key in CORE_EXTRAS:
        if _text(package.get(key)):
            pairs[key] = _text(package.get(key))
    for extra in package.get("extras") or []:
        if isinstance(extra, dict) and _text(extra.get("key")):
            value = extra.get("value")
            pairs[_text(extra["key"])[:200]] = value if isinstance(value, str) else str(value or "")
    return [Extra(key=k, value=_clip(v, MAX_TEXT, f"extra {k}", warnings)) for k, v in sorted(pairs.items())]


def _tags(package: dict[str, Any], warnings: list[str]) -> list[str]:
    tags: list[str] = []
    for tag in package.get("tags") or []:
        name = _text(tag.get("name")) if isinstance(tag, dict) else _text(tag)
        if len(name) > MAX_TAG:
            warnings.append(f"tag {name[:40]!r}... is longer than {MAX_TAG} characters; left out")
        elif name and name not in tags:
            tags.append(name)
    return tags


def _licence(package: dict[str, Any]) -> Licence | None:
    id, title = _text(package.get("license_id")), _text(package.get("license_title"))
    if not id and not title:
        return None
    return Licence(id=id[:200], title=title[:MAX_TITLE], url=_web(package.get("license_url")))


def dataset_from_package(
    package: dict[str, Any], owner: Agency, *, root: str, config: CkanConfig
) -> tuple[Dataset, list[str]]:
    """A CKAN package as a dataset, with warnings about anything cut or left out. InvalidInput names the field."""
    name = _text(package.get("name"))
    if not name:
        raise InvalidInput("name", "is required (CKAN's package slug)")
    warnings: list[str] = []
    is_open = package.get("isopen") is True and package.get("private") is not True
    payload = {
        "id": config.id_prefix + name,
        "title": _clip(_text(package.get("title")) or name, MAX_TITLE, "title", warnings),
        "description": _clip(_text(package.get("notes")), MAX_TEXT, "description", warnings),
        "owner_agency_id": owner.id,
        "classification": config.open_classification if is_open else config.closed_classification,
        "tags": _tags(package, warnings),
        "source_url": f"{root}/dataset/{name}",
        "harvest_source": root,
        "source_modified": parse_time(package.get("metadata_modified")),
        "licence": _licence(package),
        "distributions": _distributions(package, warnings),
        "extras": _extras(package, warnings),
    }
    return parse_model(Dataset, payload), warnings


class CkanConnector(Connector[CkanConfig]):
    name: ClassVar[str] = "ckan"
    config_class: ClassVar[type[ConnectorConfig]] = CkanConfig

    def __init__(self, config: CkanConfig, ctx: ConnectorContext) -> None:
        super().__init__(config, ctx)
        self.root = portal_root(config.url)
        self.fetcher = HttpFetcher(config, sleep=ctx.sleep)
        self._agencies: set[str] = set()
        self._organizations: dict[str, dict[str, Any]] = {}  # CKAN organisation id -> organisation

    def action(self, name: str, params: dict[str, Any]) -> Any:
        """The `result` of one Action API call. Raises UpstreamError when the answer is not a successful one."""
        body = self.fetcher.get_json(f"{self.root}/api/3/action/{name}", params)
        if not isinstance(body, dict) or "success" not in body:
            raise UpstreamError(f"{name}: not a CKAN action response (no `success`)")
        if body["success"] is not True:
            raise UpstreamError(f"{name}: the portal answered success=false: {body.get('error')}")
        if "result" not in body:
            raise UpstreamError(f"{name}: the response has no `result`")
        return body["result"]

    def records(self) -> Iterator[Record]:
        if self.config.organizations == "all":
            yield from self._all_organizations()
        since = self._high_water_mark() if self.config.incremental else None
        for package in self._packages(since):
            self.progressed += 1
            yield from self._package_records(package)

    def _high_water_mark(self) -> datetime | None:
        """The newest source change already harvested from this portal, read back from the catalog itself."""
        marks = [d.source_modified for d in self.ctx.sink.harvested(self.root) if d.source_modified]
        return max(marks) if marks else None

    # -- organisations -----------------------------------------------------------------------------------

    def _all_organizations(self) -> Iterator[Record]:
        offset, seen = 0, set[str]()
        while True:
            try:
                page = self.action(
                    "organization_list", {"all_fields": "true", "limit": self.config.rows, "offset": offset}
                )
            except UpstreamError as exc:
                self.report.fail(f"organization_list offset={offset}", exc.message)
                return
            if not isinstance(page, list) or not page:
                return
            names = [o.get("name") if isinstance(o, dict) else o for o in page]
            if all(n in seen for n in names):
                self.report.warn("organization_list", f"the portal sent the same page again at offset={offset}")
                return
            for org, name in zip(page, names, strict=True):
                if name in seen:
                    continue
                seen.add(str(name))
                yield from self._organization_record(org)
            offset += len(page)

    def _organization_record(self, org: Any) -> Iterator[Record]:
        if not isinstance(org, dict):  # an old portal that ignores all_fields lists names only
            try:
                org = self.action("organization_show", {"id": org, "include_datasets": "false"})
            except UpstreamError as exc:
                self.report.fail(f"organization {org}", exc.message)
                return
        try:
            agency = agency_from_organization(org, self.config.id_prefix)
        except CatalogError as exc:
            self.report.fail(f"organization {org.get('id', '?')}", exc.message)
            return
        if isinstance(org.get("id"), str):
            self._organizations[org["id"]] = org
        if agency.id not in self._agencies:
            self._agencies.add(agency.id)
            yield AgencyRecord(agency)

    # -- packages ----------------------------------------------------------------------------------------

    def _search_params(self, since: datetime | None, start: int) -> dict[str, Any]:
        filters = [
            f for f in (self.config.filter, f"metadata_modified:[{solr_time(since)} TO *]" if since else None) if f
        ]
        params: dict[str, Any] = {"q": self.config.query, "rows": self.config.rows, "start": start, "sort": SORT}
        if filters:
            params["fq"] = filters[0] if len(filters) == 1 else " AND ".join(f"({f})" for f in filters)
        return params

    def _search(self, since: datetime | None, start: int) -> tuple[int, list[Any]]:
        result = self.action("package_search", self._search_params(since, start))
        if not isinstance(result, dict) or not isinstance(result.get("count"), int):
            raise UpstreamError("package_search: result.count is missing or not a number")
        if not isinstance(result.get("results"), list):
            raise UpstreamError("package_search: result.results is missing or not a list")
        return result["count"], result["results"]

    def _packages(self, since: datetime | None) -> Iterator[Any]:
        """Every package the search finds, page by page, each once.

        A page that cannot be read is reported and skipped. The page size is whatever the portal actually sent
        (it may cap `rows`), and a portal that ignores `start` is caught when a page brings nothing new.
        """
        start, count, seen, page_size = 0, None, set[str](), self.config.rows
        while count is None or start < count:
            try:
                count, page = self._search(since, start)
            except UpstreamError as exc:
                self.report.fail(f"package_search start={start}", exc.message)
                if count is None:
                    return  # without a first page there is no telling how many there are
                start += page_size  # skip the unreadable page: the portal's page size is the last one it sent
                continue
            self.expected = count
            keys = [_package_key(p) for p in page]
            if not page or all(k in seen for k in keys):
                if page:
                    self.report.warn(
                        "package_search",
                        f"the portal sent the same page again at start={start} (it ignores `start`); "
                        f"stopped after {len(seen)} of {count} packages",
                    )
                return
            for package, key in zip(page, keys, strict=True):
                if key not in seen:
                    seen.add(key)
                    yield package
            start, page_size = start + len(page), len(page)

    def _owner(self, package: dict[str, Any]) -> Agency:
        org = package.get("organization")
        if not isinstance(org, dict):
            org = self._organizations.get(str(package.get("owner_org")))
        return agency_from_organization(org, self.config.id_prefix)

    def _package_records(self, package: Any) -> Iterator[Record]:
        key = f"package {package.get('name') or _package_key(package) if isinstance(package, dict) else '?'}"
        if not isinstance(package, dict):
            self.report.fail(key, "is not a JSON object")
            return
        try:
            owner = self._owner(package)
            dataset, warnings = dataset_from_package(package, owner, root=self.root, config=self.config)
        except CatalogError as exc:
            self.report.fail(key, exc.message)
            return
        if owner.id not in self._agencies:
            self._agencies.add(owner.id)
            yield AgencyRecord(owner)
        for warning in warnings:
            self.report.warn(f"dataset {dataset.id}", warning)
        yield DatasetRecord(dataset, self.config.open_classification)

    def close(self) -> None:
        self.fetcher.close()


def _package_key(package: Any) -> str:
    if isinstance(package, dict):
        return str(package.get("id") or package.get("name") or "?")
    return repr(package)[:60]
