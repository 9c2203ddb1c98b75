"""A results file as the Markdown table BENCHMARKS.md holds, so the document is printed from the figures.

    python -m bench.report bench/results/L.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.measure import COLUMNS, cells, from_json


def markdown(report: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for entry in report["figures"]:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells(from_json(entry), ".2f")) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="A JSON file written by `catalog bench`.")
    args = parser.parse_args()
    report = json.loads(args.results.read_text())
    machine, config = report["machine"], report["config"]
    print(f"Profile {report['profile']}, measured {report['at']} on {machine['cpus']} CPUs ({machine['platform']}, "
          f"Python {machine['python']}). Landscape: {config.get('landscape', '?')}. Load generator: "
          f"{config.get('load_generator', '?')}.\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
