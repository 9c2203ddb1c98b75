"""How fast abusive GraphQL documents are refused, and whether /healthz is answered meanwhile.

    python -m bench.limits [--rounds N]

Starts `catalog serve` on an empty SQLite store (the bombs never reach the store), then for each document below
sends it `rounds` times and times the refusal, and times /healthz while a few clients keep sending the bomb. The
goal is under 100 ms for each. The tests (`tests/api/test_limits.py`, `tests/e2e/test_abuse.py`) send the same
documents and assert only that each is refused with BAD_USER_INPUT and that /healthz answers at all.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.http_api import serve_catalog
from bench.measure import percentile

LEAF = "me { id name email agencyId roles trainingCurrent training { completedAt expiresAt } agency { id name kind } }"


def doubling_bomb(levels: int = 20) -> str:
    """An anonymous query of `levels` fragments, each spreading the next one twice, the last asking for a person:
    2**(levels-1) copies of it if expanded (878 bytes at 20 levels, like the 824 bytes of the one reported)."""
    lines = ["{ ...F0 }"]
    lines += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels - 1)]
    lines.append(f"fragment F{levels - 1} on Query {{ {LEAF} }}")
    return "\n".join(lines)


def alias_flood(aliases: int = 40_000) -> str:
    """One query of `aliases` aliased fields (749 KB at 40,000)."""
    return "{ " + " ".join(f"a{i}: __typename" for i in range(aliases)) + " }"


def repeated_field(repeats: int = 1_000) -> str:
    """One field asked for `repeats` times in one selection set."""
    return "{ me { " + " ".join(["id"] * repeats) + " } }"


BOMBS: dict[str, Callable[[], str]] = {
    "20-fragment doubling bomb": doubling_bomb,
    "40,000 aliases": alias_flood,
    "1,000 repeats of one field": repeated_field,
}
GOAL_MS = 100.0
BOMBERS = 3


@dataclass(frozen=True)
class Timing:
    what: str
    samples_ms: list[float]

    def row(self) -> str:
        p50, p99, worst = (percentile(self.samples_ms, q) for q in (0.5, 0.99, 1.0))
        verdict = "met" if worst < GOAL_MS else "MISSED"
        return f"| {self.what} | {len(self.samples_ms)} | {p50:.1f} | {p99:.1f} | {worst:.1f} | {verdict} |"


def refusals(url: str, name: str, document: str, rounds: int) -> Timing:
    """Send `document` `rounds` times in a row; each must be refused with BAD_USER_INPUT."""
    samples = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for _ in range(rounds):
            started = time.perf_counter()
            body = client.post("/graphql", json={"query": document}).json()
            samples.append((time.perf_counter() - started) * 1000)
            codes = {e["extensions"]["code"] for e in body.get("errors", [])}
            if codes != {"BAD_USER_INPUT"}:
                raise RuntimeError(f"{name} was not refused with BAD_USER_INPUT: {body}")
    return Timing(f"refuse {name}", samples)


def healthz_under_bombs(url: str, rounds: int) -> Timing:
    """Time /healthz while BOMBERS clients send every bomb in turn, as fast as they are answered."""
    stop = threading.Event()
    documents = [build() for build in BOMBS.values()]

    def bomb(first: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            turn = first
            while not stop.is_set():
                client.post("/graphql", json={"query": documents[turn % len(documents)]})
                turn += 1

    threads = [threading.Thread(target=bomb, args=(i,), daemon=True) for i in range(BOMBERS)]
    for thread in threads:
        thread.start()
    samples = []
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            for _ in range(rounds):
                started = time.perf_counter()
                client.get("/healthz").raise_for_status()
                samples.append((time.perf_counter() - started) * 1000)
                time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return Timing(f"/healthz while {BOMBERS} clients send bombs", samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=50, help="requests per figure (default 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        with serve_catalog(f"sqlite:///{workdir / 'catalog.db'}", workdir) as served:
            timings = [refusals(served.url, name, build(), args.rounds) for name, build in BOMBS.items()]
            timings.append(healthz_under_bombs(served.url, args.rounds))
    print(f"Goal: under {GOAL_MS:.0f} ms each (worst of {args.rounds}); one `catalog serve` on {os.cpu_count()} CPUs.")
    print("| what | requests | p50 ms | p99 ms | worst ms | goal |")
    print("|---|---|---|---|---|---|")
    for timing in timings:
        print(timing.row())


if __name__ == "__main__":
    main()
