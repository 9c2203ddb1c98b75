"""Fetching from upstream portals: timeouts always set, retries with backoff on 429 and 5xx, Retry-After honoured.

httpx errors stop here: callers only ever see `UpstreamError`, which names the URL and what went wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import BaseModel, Field

from catalog.errors import CatalogError

USER_AGENT = "public-catalog-connector/0.1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class UpstreamError(CatalogError):
    """The source could not be read: unreachable, too slow, an error status, or a body that is not what was asked."""

    code = "UPSTREAM"


class HttpSettings(BaseModel):
    """How patiently a connector talks to its source. Part of every HTTP connector's config."""

    timeout_s: float = Field(30.0, gt=0, description="Seconds to wait to connect, and for each read.")
    max_retries: int = Field(4, ge=0, le=10, description="Retries after a 429, a 5xx or a network error.")
    backoff_s: float = Field(1.0, ge=0, description="First wait between retries; it doubles each time.")
    max_wait_s: float = Field(120.0, ge=0, description="Longest wait between retries, Retry-After included.")


@dataclass
class Fetched:
    content: bytes
    content_type: str
    url: str


def retry_after(response: httpx.Response, now: datetime) -> float | None:
    """Seconds the server asked us to wait (RFC 9110: delay-seconds or an HTTP-date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class HttpFetcher:
    """GETs with retries. `sleep` is a seam: tests see the waits without waiting."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        sleep: Callable[[float], None],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(settings.timeout_s),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
            transport=transport,
        )

    def _wait(self, attempt: int, response: httpx.Response | None) -> float:
        asked = retry_after(response, datetime.now(UTC)) if response is not None else None
        wait = asked if asked is not None else self.settings.backoff_s * (2**attempt)
        return min(wait, self.settings.max_wait_s)

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> Fetched:
        """The body at `url`. Raises UpstreamError once retries are spent or on a status that retrying won't fix."""
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = self._http.get(url, params=params)
            except httpx.TimeoutException:
                problem = f"no answer within {self.settings.timeout_s:g} s"
            except httpx.HTTPError as exc:
                problem = f"cannot connect ({type(exc).__name__}: {exc})"
            else:
                if response.status_code < 400:
                    return Fetched(response.content, response.headers.get("Content-Type", ""), str(response.url))
                problem = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES and response.status_code < 500:
                    raise UpstreamError(f"GET {_shown(url, params)}: {problem}{_detail(response)}")
            if attempt >= self.settings.max_retries:
                tries = f"{attempt + 1} tr{'y' if attempt == 0 else 'ies'}"
                raise UpstreamError(f"GET {_shown(url, params)}: {problem} after {tries}")
            self.sleep(self._wait(attempt, response))
            attempt += 1

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        fetched = self.get(url, params)
        try:
            return json.loads(fetched.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UpstreamError(f"GET {_shown(url, params)}: the body is not JSON ({exc})") from None

    def close(self) -> None:
        self._http.close()


def _shown(url: str, params: Mapping[str, Any] | None) -> str:
    return str(httpx.URL(url, params=params)) if params else url


def _detail(response: httpx.Response) -> str:
    """A short hint from an error body: CKAN puts its reason in `error.message`."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f" ({error['message']})"
    return ""
