"""`catalog bench` on the tiny landscape (T): every benchmark runs once on both backends and writes its figures
as JSON. A benchmark that broke fails here; the figures themselves are not asserted (they mean nothing at T)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, ensure_tool, skip_or_fail
from tests.support.cli import clean_environment, run_cli


@pytest.mark.neo4j
def test_every_benchmark_runs_on_both_backends_and_writes_json(tmp_path: Path) -> None:
    from catalog_devtools.neo4j_embedded import tooling_problem

    problem = tooling_problem()
    if problem:
        skip_or_fail(f"the Neo4j half of the benchmark needs Java 17 and Maven: {problem}")
    ensure_tool("wrk", "wrk")  # the load generator the published figures use; without it the bench falls back to httpx
    out = tmp_path / "T.json"

    result = run_cli("bench", "--size", "T", "--out", str(out), env=clean_environment(), timeout=900)

    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    figures = {(f["name"], f["backend"]): f for f in report["figures"]}
    for backend in ("sqlite", "neo4j"):
        for name in (
            "bulk load",
            "bare Starlette JSON endpoint",
            "dataset(id) over HTTP",
            "analyst datasets(first: 50), filtered",
            "GraphQL lineage, depth 3",
            "GraphQL lineage, depth 10",
            "GraphQL impact, depth 3",
            "GraphQL impact, depth 10",
            "catalog serve RSS",
            "bare endpoint, in the process",
            "dataset(id), in the process",
            "analyst datasets(first: 50), in the process",
            "checkAccess (decide + record)",
        ):
            assert (name, backend) in figures, (name, backend)
        assert figures[("bulk load", backend)]["notes"]["seconds"] > 0
        assert figures[("catalog serve RSS", backend)]["notes"]["peak_mb"] > 0
        assert sum(figures[("checkAccess (decide + record)", backend)]["notes"]["outcomes"].values()) > 0
    assert ("policy decision, 100 rules", "-") in figures
    with_baseline = [f for f in report["figures"] if f["baseline"]]
    assert with_baseline and all(f["baseline_p50_ms"] > 0 and f["ratio"] > 0 for f in with_baseline)
    expected_tool = "wrk" if shutil.which("wrk") else "httpx"
    assert figures[("dataset(id) over HTTP", "sqlite")]["notes"]["load_generator"] == expected_tool
    assert "Benchmarks, profile T" in result.stdout and "bare pycasbin" in result.stdout  # the table a person reads


def test_instructions_are_counted_alike_for_this_tree_and_a_revision(tmp_path: Path) -> None:
    """`python -m bench.instructions` against HEAD (the same code, checked out apart): two counts of the same work
    agree within 1%, which is what makes it the figure that settles a before-and-after comparison here."""
    if not ensure_tool("valgrind", "valgrind"):
        skip_or_fail("bench.instructions needs valgrind (Debian: apt install valgrind)")
    out = tmp_path / "instructions.json"
    command = [sys.executable, "-m", "bench.instructions", "--size", "T", "--checks", "5", "--against", "HEAD"]

    result = subprocess.run([*command, "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stderr[-3000:]
    notes = json.loads(out.read_text())["figures"][0]["notes"]
    ours, base = notes["instructions_per_check"], notes["baseline_instructions_per_check"]
    assert ours > 1_000_000 and abs(ours / base - 1) < 0.01, notes
