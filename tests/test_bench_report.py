"""BENCHMARKS.md's table is printed from a results file, readings and ratios included."""

from __future__ import annotations

import json
from pathlib import Path

from bench.measure import figure, reading, write_json
from bench.report import markdown


def test_a_results_file_prints_as_a_markdown_table(tmp_path: Path) -> None:
    ours = figure("dataset(id) over HTTP", "neo4j", [0.002, 0.004, 0.006], 0.012, baseline="bare | endpoint",
                  baseline_p50_ms=2.0, target=">= 1,000 req/s")
    memory = reading("catalog serve RSS", "neo4j", "peak 118 MB", 40, notes={"peak_mb": 118.0})
    write_json([ours, memory], tmp_path / "L.json", "L", {"landscape": "tiny"})

    lines = markdown(json.loads((tmp_path / "L.json").read_text())).splitlines()

    assert lines[0].startswith("| benchmark | backend | p50 ms |") and len(lines) == 4
    assert lines[2] == (
        "| dataset(id) over HTTP | neo4j | 4.00 | 6.00 | 6.00 | 250 "
        "| bare \\| endpoint | 2.00 | 2.00 | >= 1,000 req/s |"
    )
    assert lines[3] == "| catalog serve RSS | neo4j | peak 118 MB |  |  |  |  |  |  |  |"
