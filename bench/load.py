"""HTTP load for the benchmarks: a closed loop of keep-alive connections, each request timed.

The load generator is `wrk` when it is on PATH (`apt-get install wrk`): written in C, it costs the machine a few
microseconds a request, so on two cores the server, not the client, sets the pace. Without it, httpx drives the
load from Python instead; that client spends about a millisecond of CPU a request on the same cores, so its
figures are bounded by the client and the result says so (`tool`).

Every response is checked: a status other than 200, or a body carrying GraphQL `errors`, counts as a failure,
and a run with failures raises instead of reporting a fast error as throughput.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.measure import Figure, figure

WRK_LUA = """
local requests = {%(requests)s}
local headers = %(headers)s
local prepared = {}
local next_index = 0
failures = 0
first_failure = ""

function init(args)
  for i, r in ipairs(requests) do
    prepared[i] = wrk.format(r[1], r[2], headers, r[3])
  end
end

function request()
  next_index = next_index %% #prepared + 1
  return prepared[next_index]
end

function response(status, response_headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    if failures == 0 then
      first_failure = status .. " " .. string.gsub(string.sub(body, 1, 400), "\\n", " ")
    end
    failures = failures + 1
  end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests_done)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    local first = thread:get("first_failure")
    if first ~= "" then
      io.write("WRK_FIRST_FAILURE " .. first .. "\\n")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "requests": %%d, "duration_us": %%d, '
    .. '"failures": %%d, "socket_errors": %%d}\\n',
    latency:percentile(50), latency:percentile(95), latency:percentile(99), summary.requests, summary.duration,
    failed, e.connect + e.read + e.write + e.timeout + e.status))
end
"""


@dataclass(frozen=True)
class HttpRequest:
    """One request of a load's rotation: method, path and (for POST) a JSON body."""

    method: str
    path: str
    body: dict[str, Any] | None = None

    def encoded_body(self) -> str | None:
        return None if self.body is None else json.dumps(self.body, separators=(",", ":"))


@dataclass
class LoadResult:
    """What a load run measured: latency percentiles in milliseconds, throughput, and which tool measured."""

    tool: str
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_s: float
    requests: int
    notes: dict[str, Any] = field(default_factory=dict)

    def figure(self, name: str, backend: str, **extra: Any) -> Figure:
        notes = {"load_generator": self.tool, **self.notes, **extra.pop("notes", {})}
        return Figure(name, backend, self.p50_ms, self.p95_ms, self.p99_ms, self.per_s, self.requests,
                      notes=notes, **extra)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_load(
    base_url: str,
    rotation: list[HttpRequest],
    *,
    headers: dict[str, str] | None = None,
    duration_s: float = 5.0,
    connections: int = 8,
    requests: int = 2000,
    tool: str | None = None,
    warm_up: bool = True,
) -> LoadResult:
    """Drive `rotation` (cycled) at `base_url` from `connections` keep-alive connections, after a warm-up.

    Args:
        duration_s: how long wrk runs (it stops on time, not count).
        requests: how many requests the httpx fallback sends (it stops on count).
        tool: "wrk" or "httpx"; by default wrk when it is on PATH.
        warm_up: drive it briefly first and throw those figures away (off only for smoke runs).
    """
    assert rotation, "a load needs at least one request"
    chosen = tool or ("wrk" if wrk_available() else "httpx")
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if chosen == "wrk":
        if warm_up:
            _wrk(base_url, rotation, all_headers, 1.0 if duration_s <= 4 else 2.0, connections)  # not kept
        return _wrk_measuring(base_url, rotation, all_headers, duration_s, connections)
    if warm_up:
        _httpx(base_url, rotation, all_headers, min(200, requests), connections)
    return _httpx(base_url, rotation, all_headers, requests, connections)


def _lua_string(text: str) -> str:
    assert "]==]" not in text, "a request may not contain the Lua long-bracket terminator"
    return f"[==[{text}]==]"


def _lua_script(rotation: list[HttpRequest], headers: dict[str, str]) -> str:
    entries = []
    for item in rotation:
        body = item.encoded_body()
        entries.append(
            "{" + ", ".join([_lua_string(item.method), _lua_string(item.path), _lua_string(body) if body else "nil"])
            + "}"
        )
    header_table = "{" + ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()) + "}"
    return WRK_LUA % {"requests": ",\n".join(entries), "headers": header_table}


def _wrk_measuring(base_url: str, rotation: list[HttpRequest], headers: dict[str, str], duration_s: float,
                   connections: int, attempts: int = 4) -> LoadResult:
    """wrk until it has measured something: a run in which no answer came back within its duration reports
    latencies of 0 ms, which is no measurement, so the run is repeated for twice as long, `attempts` times at most."""
    for attempt in range(attempts):
        result = _wrk(base_url, rotation, headers, duration_s * 2**attempt, connections)
        if result.requests:
            return result
    raise RuntimeError(f"no answer came back from {base_url} within {duration_s * 2 ** (attempts - 1):g} s "
                       f"under load, in {attempts} runs of wrk")


def _wrk(base_url: str, rotation: list[HttpRequest], headers: dict[str, str], duration_s: float,
         connections: int) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(_lua_script(rotation, headers))
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s", "--timeout", "30s",
                   "-s", str(script), base_url]
        finished = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 120, check=False)
    line = next((ln for ln in finished.stdout.splitlines() if ln.startswith("WRK_RESULT ")), None)
    if finished.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr[-1000:] or finished.stdout[-1000:]}")
    result = json.loads(line.removeprefix("WRK_RESULT "))
    if result["failures"] or result["socket_errors"]:
        first = next((ln.removeprefix("WRK_FIRST_FAILURE ") for ln in finished.stdout.splitlines()
                      if ln.startswith("WRK_FIRST_FAILURE ")), "")
        raise RuntimeError(f"{result['failures']} failed responses and {result['socket_errors']} socket errors "
                           f"under load at {base_url}" + (f"; the first: {first}" if first else ""))
    seconds = result["duration_us"] / 1e6
    return LoadResult("wrk", result["p50_us"] / 1000, result["p95_us"] / 1000, result["p99_us"] / 1000,
                      result["requests"] / seconds, result["requests"], {"connections": connections})


def _httpx(base_url: str, rotation: list[HttpRequest], headers: dict[str, str], requests: int,
           connections: int) -> LoadResult:
    samples: list[float] = []
    bodies = [item.encoded_body() for item in rotation]

    async def drive() -> float:
        counter = iter(range(requests))
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:

            async def worker() -> None:
                for i in counter:
                    item, body = rotation[i % len(rotation)], bodies[i % len(rotation)]
                    started = time.perf_counter()
                    response = await client.request(item.method, item.path, content=body)
                    samples.append(time.perf_counter() - started)
                    if response.status_code != 200 or '"errors"' in response.text:
                        raise RuntimeError(f"request failed: {response.status_code} {response.text[:300]}")

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(connections)))
            return time.perf_counter() - started

    wall = asyncio.run(drive())
    measured = figure("load", "-", samples, wall)
    assert measured.p50_ms is not None and measured.p95_ms is not None and measured.p99_ms is not None
    return LoadResult("httpx", measured.p50_ms, measured.p95_ms, measured.p99_ms, measured.per_s or 0.0,
                      len(samples), {"connections": connections, "bounded_by": "client CPU (~1 ms a request)"})
