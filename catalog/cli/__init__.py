"""`catalog ...`: the command line, one module per command group. Errors print one line naming the setting or
input, never a traceback."""

from __future__ import annotations

from catalog.cli.main import cli, main

__all__ = ["cli", "main"]
