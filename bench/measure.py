"""Timing helpers and the result table every benchmark prints."""

from __future__ import annotations

import json
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass
class Figure:
    """Latency percentiles (milliseconds) and throughput for one benchmark, with its baseline's, if any.

    A figure that is not a latency distribution (memory, say) has no percentiles: its `summary` is what the table
    shows instead, and its values are in `notes`.
    """

    name: str
    backend: str
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    per_s: float | None
    samples: int
    baseline: str | None = None
    baseline_p50_ms: float | None = None
    target: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    summary: str | None = None

    @property
    def ratio(self) -> float | None:
        """Ours over the baseline at p50 (below 1 means faster than the baseline)."""
        if not self.baseline_p50_ms or self.p50_ms is None:
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


def reading(name: str, backend: str, summary: str, samples: int, **extra: Any) -> Figure:
    """A figure that is not a latency distribution: the table shows `summary`, the values go in `notes`."""
    return Figure(name, backend, None, None, None, None, samples, summary=summary, **extra)


def rss_mb(pid: int) -> float | None:
    """A process's resident set size in MB (from /proc, so Linux only), or None if it is gone or unreadable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


class RssSampler:
    """Samples processes' resident set sizes every `interval` seconds in a background thread while entered."""

    def __init__(self, pids: dict[str, int], interval: float = 0.2) -> None:
        self.pids, self.interval = pids, interval
        self.samples: dict[str, list[float]] = {name: [] for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            mb = rss_mb(pid)
            if mb is not None:
                self.samples[name].append(mb)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def peak_mb(self, name: str) -> float | None:
        return max(self.samples[name], default=None)

    def final_mb(self, name: str) -> float | None:
        return self.samples[name][-1] if self.samples[name] else None


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}


COLUMNS = ("benchmark", "backend", "p50 ms", "p95 ms", "p99 ms", "per s", "baseline", "base p50 ms", "ours/base",
           "target")


def cells(f: Figure, spec: str = ".3f") -> list[str]:
    """One figure as table cells; a reading (memory, a load's total) shows its summary across the latency cells."""
    if f.summary is not None:
        measured = [f.summary, "", "", ""]
    else:
        measured = [_number(f.p50_ms, spec), _number(f.p95_ms, spec), _number(f.p99_ms, spec), _number(f.per_s, ",.0f")]
    return [f.name, f.backend, *measured, f.baseline or "", _number(f.baseline_p50_ms, spec), _number(f.ratio, ".2f"),
            f.target or ""]


def print_table(figures: list[Figure], title: str) -> None:
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column, justify="right" if "ms" in column or column in ("per s", "ours/base") else "left")
    for f in figures:
        table.add_row(*cells(f))
    Console(width=max(Console().width, 160)).print(table)


def from_json(entry: dict[str, Any]) -> Figure:
    """A figure as `write_json` wrote it (the derived `ratio` is dropped: Figure computes it)."""
    return Figure(**{k: v for k, v in entry.items() if k != "ratio"})


def _number(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def publish(figures: list[Figure], title: str, path: Path, profile: str, config: dict[str, Any],
            console: Console) -> None:
    """Print the table, write the figures as JSON with `config` (see `write_json`) and say where they went."""
    print_table(figures, title)
    write_json(figures, path, profile, config)
    console.print(f"wrote {path}")


def write_json(figures: list[Figure], path: Path, profile: str, config: dict[str, Any] | None = None) -> None:
    """Write the figures with the machine they ran on and `config`: how the servers measured were set up."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"profile": profile, "machine": machine(), "config": config or {},
               "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "figures": [{**asdict(f), "ratio": f.ratio} for f in figures]}
    path.write_text(json.dumps(payload, indent=2))
