"""The `catalog` command line as a user runs it: a real subprocess, configured by the test alone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import REPO


def clean_environment() -> dict[str, str]:
    """This process's environment without its CATALOG_ settings: nothing is inherited from the developer's shell."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CATALOG_")}


def run_cli(
    *args: str, env: Mapping[str, str], cwd: Path = REPO, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run `python -m catalog.cli ARGS` in `cwd` and capture its output; judging the exit status is the caller's."""
    return subprocess.run(
        [sys.executable, "-m", "catalog.cli", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
