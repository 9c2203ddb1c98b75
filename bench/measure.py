"""Timing helpers and the result table every benchmark prints."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass
class Figure:
    """Latency percentiles (milliseconds) and throughput for one benchmark, with its baseline's, if any."""

    name: str
    backend: str
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_s: float
    samples: int
    baseline: str | None = None
    baseline_p50_ms: float | None = None
    target: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """Ours over the baseline at p50 (below 1 means faster than the baseline)."""
        if not self.baseline_p50_ms:
            return None
        return self.p50_ms / self.baseline_p50_ms


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def timed(fn: Callable[[], Any], *, iterations: int, warmup: int = 5) -> tuple[list[float], float]:
    """Run `fn` `iterations` times after a warm-up. Returns per-call seconds and the total wall time."""
    for _ in range(warmup):
        fn()
    samples = []
    started = time.perf_counter()
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples, time.perf_counter() - started


def figure(name: str, backend: str, samples: list[float], wall_s: float, **extra: Any) -> Figure:
    return Figure(
        name=name,
        backend=backend,
        p50_ms=statistics.median(samples) * 1000,
        p95_ms=percentile(samples, 0.95) * 1000,
        p99_ms=percentile(samples, 0.99) * 1000,
        per_s=len(samples) / wall_s if wall_s else 0.0,
        samples=len(samples),
        **extra,
    )


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}


def print_table(figures: list[Figure], title: str) -> None:
    table = Table(title=title)
    for column in ("benchmark", "backend", "p50 ms", "p95 ms", "p99 ms", "per s", "baseline", "base p50 ms",
                   "ours/base", "target"):
        table.add_column(column, justify="right" if "ms" in column or column in ("per s", "ours/base") else "left")
    for f in figures:
        table.add_row(f.name, f.backend, f"{f.p50_ms:.3f}", f"{f.p95_ms:.3f}", f"{f.p99_ms:.3f}", f"{f.per_s:,.0f}",
                      f.baseline or "", f"{f.baseline_p50_ms:.3f}" if f.baseline_p50_ms else "",
                      f"{f.ratio:.2f}" if f.ratio is not None else "", f.target or "")
    Console(width=max(Console().width, 160)).print(table)


def write_json(figures: list[Figure], path: Path, profile: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"profile": profile, "machine": machine(), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "figures": [{**asdict(f), "ratio": f.ratio} for f in figures]}
    path.write_text(json.dumps(payload, indent=2))
