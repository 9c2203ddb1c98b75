"""OPA: the binary (built once from the Go module proxy and cached), its REST server, and `opa bench`.

The Rego is ours: access.rego translates the access and deny rules; decide.rego combines any module's
`allow_rules` and `deny_rules` as the catalog does. `input` is RequestAttributes.snapshot().
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.http_api import free_port, process

OPA_VERSION = "v1.22.4"
OPA_MODULE = "github.com/open-policy-agent/opa"
CACHE = Path.home() / ".cache" / "public-catalog"
BUILD_TIMEOUT_S = 1800  # two busy cores take minutes to compile OPA
HERE = Path(__file__).parent
ACCESS_RULES = HERE / "access.rego"
DECIDE = HERE / "decide.rego"
PACKAGE_PATH = "catalog/access"  # the package both modules share, as a REST path


def cached_binary() -> Path:
    return CACHE / f"opa-{OPA_VERSION}" / "opa"


def find_opa() -> Path | None:
    """The cached build of OPA_VERSION, else an `opa` on PATH, else None."""
    if os.access(cached_binary(), os.X_OK):
        return cached_binary()
    found = shutil.which("opa")
    return Path(found) if found else None


def build_problem() -> str | None:
    """Why OPA cannot be built here (no Go toolchain), or None."""
    return None if shutil.which("go") else "building OPA needs Go on PATH (`go install` from the Go module proxy)"


def install_opa() -> Path:
    """`go install` OPA_VERSION into the cache (a few minutes, once). Raises RuntimeError with Go's words."""
    target = cached_binary()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as staging:
        env = {**os.environ, "GOBIN": staging, "CGO_ENABLED": "0"}
        built = subprocess.run(["go", "install", f"{OPA_MODULE}@{OPA_VERSION}"], env=env, cwd=staging,
                               capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
        if built.returncode != 0:
            raise RuntimeError(f"go install {OPA_MODULE}@{OPA_VERSION} failed: {built.stderr[-2000:]}")
        os.replace(Path(staging) / "opa", target)  # whole or not at all, should two runs race
    return target


def version(binary: Path) -> str:
    shown = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=30, check=True).stdout
    return next(line.split(":", 1)[1].strip() for line in shown.splitlines() if line.startswith("Version:"))


def modules(rules: str) -> dict[str, str]:
    """The Rego modules that decide with `rules` (a module defining allow_rules and deny_rules).

    Rules first: decide.rego names them, and the server compiles each module as it arrives.
    """
    return {"rules.rego": rules, "decide.rego": DECIDE.read_text()}


@dataclass
class OpaServer:
    """A running `opa run --server` on loopback, with a keep-alive client."""

    url: str
    client: httpx.Client

    def install(self, rules: str) -> None:
        """Replace the policy the server decides with (the same module ids each time)."""
        for name, text in modules(rules).items():
            response = self.client.put(f"/v1/policies/{name}", content=text.encode(),
                                       headers={"Content-Type": "text/plain"})
            if response.status_code != 200:
                raise RuntimeError(f"OPA refused {name}: {response.text[:2000]}")

    def query(self, document: str, input: Any, explain: str | None = None) -> Any:
        """POST `input` to the package's `document` (allow, decision, outcomes, decisions); its result."""
        params = {"explain": explain} if explain else None
        response = self.client.post(f"/v1/data/{PACKAGE_PATH}/{document}", json={"input": input}, params=params)
        response.raise_for_status()
        return response.json()["result"]


@contextmanager
def serve(binary: Path, workdir: Path) -> Iterator[OpaServer]:
    """`opa run --server` on a free loopback port, stopped on exit however the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(binary), "run", "--server", "--addr", f"127.0.0.1:{port}", "--log-level", "error"]
    with process(command, dict(os.environ), f"{url}/health", workdir / "opa.log"), \
            httpx.Client(base_url=url, timeout=30) as client:
        yield OpaServer(url, client)


@dataclass
class BenchResult:
    """What `opa bench` measured: Go's iterations and total time, and the query-eval histogram (ns)."""

    iterations: int
    total_ns: int
    p50_ns: float
    p95_ns: float
    p99_ns: float

    @property
    def per_s(self) -> float:
        return self.iterations / (self.total_ns / 1e9)


def bench(binary: Path, rules: str, input: Any, document: str) -> BenchResult:
    """`opa bench` of one package document on one input: OPA's own in-process figure (Go's benchmark loop)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, text in modules(rules).items():
            (folder / name).write_text(text)
        (folder / "input.json").write_text(json.dumps(input))
        query = f"data.{PACKAGE_PATH.replace('/', '.')}.{document}"
        ran = subprocess.run([str(binary), "bench", "--format", "json", "-d", str(folder / "decide.rego"),
                              "-d", str(folder / "rules.rego"), "-i", str(folder / "input.json"), query],
                             capture_output=True, text=True, timeout=600, check=False)
    if ran.returncode != 0:
        raise RuntimeError(f"opa bench {query} failed: {ran.stderr[-2000:] or ran.stdout[-2000:]}")
    result = json.loads(ran.stdout)
    extra = result["Extra"]
    key = "histogram_timer_rego_query_eval_ns_"
    return BenchResult(result["N"], result["T"], extra[key + "median"], extra[key + "95%"], extra[key + "99%"])
