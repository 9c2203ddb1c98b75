"""`python -m bench.peers`: ours, Cedar (cedarpy) and OPA on the same policies and inputs; prints and writes JSON.

Installs what it measures against when missing: cedarpy from PyPI into this environment, and OPA built once
from the Go module proxy into ~/.cache/public-catalog (minutes on two cores).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.metadata
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from rich.console import Console

CEDARPY_VERSION = "4.12.2"


def ensure_cedarpy(console: Console) -> str:
    """cedarpy's version, installing it from PyPI first if this environment lacks it."""
    try:
        return importlib.metadata.version("cedarpy")
    except importlib.metadata.PackageNotFoundError:
        console.print(f"installing cedarpy=={CEDARPY_VERSION} from PyPI")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"cedarpy=={CEDARPY_VERSION}"], check=True)
        return importlib.metadata.version("cedarpy")


def ensure_opa(console: Console) -> Path:
    from bench.peers import opa

    found = opa.find_opa()
    if found:
        return found
    problem = opa.build_problem()
    if problem:
        raise SystemExit(problem)
    console.print(f"building OPA {opa.OPA_VERSION} with `go install` into {opa.cached_binary().parent} (minutes)")
    return opa.install_opa()


def profile_ours(count: int) -> None:
    """cProfile of our engine deciding the real policy's probe `count` times: the top 20 by own time."""
    from bench.peers.suite import real_policy

    policy = real_policy()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        policy.engine.decide(policy.probe)
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000], help="synthetic rule counts")
    parser.add_argument("--iterations", type=int, default=2000, help="decisions timed per in-process figure")
    parser.add_argument("--batch", type=int, default=1000, help="requests in the batch")
    parser.add_argument("--http-seconds", type=float, default=3, help="how long each OPA-over-HTTP figure runs")
    parser.add_argument("--out", type=Path, default=Path("bench/results/peers.json"))
    parser.add_argument("--markdown", action="store_true", help="also print both tables as Markdown")
    parser.add_argument("--profile", action="store_true", help="only profile our engine on the real policy")
    args = parser.parse_args()
    if args.profile:
        profile_ours(args.iterations)
        return
    console = Console(stderr=True)
    cedarpy_version = ensure_cedarpy(console)
    binary = ensure_opa(console)

    from bench.http_api import HttpLoad
    from bench.load import wrk_available
    from bench.measure import print_table, write_json
    from bench.peers import opa
    from bench.peers.report import markdown, print_side_by_side
    from bench.peers.suite import Workload, run
    from bench.report import markdown as figures_markdown

    workload = Workload(tuple(args.sizes), args.iterations, args.batch,
                        http=HttpLoad(duration_s=args.http_seconds, requests=1000, connections=1))
    load_before, started = os.getloadavg(), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(workload, binary, Path(tmp))
    versions = {"cedarpy": cedarpy_version, "opa": opa.version(binary), "python": platform.python_version()}
    title = f"Ours, Cedar and OPA on the same policies (cedarpy {versions['cedarpy']}, OPA {versions['opa']})"
    print_table(figures, title)
    print_side_by_side(figures, "p50 side by side")
    config = {"workload": asdict(workload), "versions": versions, "landscape": "none (policy decisions only)",
              "load_generator": "wrk" if wrk_available() else "httpx (wrk not on PATH)",
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "seconds": round(time.perf_counter() - started, 1)}
    write_json(figures, args.out, "peers", config)
    console.print(f"done in {config['seconds']} s; figures in {args.out}")
    if args.markdown:
        import json

        print(figures_markdown(json.loads(args.out.read_text())), "", markdown(figures), sep="\n")


if __name__ == "__main__":
    main()
