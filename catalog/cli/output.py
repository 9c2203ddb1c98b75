"""Where a command's output goes: standard output, or the file its `--out FILE` (or `--path FILE`) names.

A file that cannot be written (no such folder, a folder, no permission, a full disk) is bad input naming the
option and the reason, one line like `catalog: bad_user_input: --out: cannot write x.json: No such file or
directory`, never a traceback. Every command that writes a file goes through `writing` for that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from catalog.errors import InvalidInput


def output_option(help: str) -> Any:
    """The `--out FILE` option of a command that writes to standard output unless given a file."""
    return typer.Option(metavar="FILE", show_default="standard output", help=help)


@contextmanager
def writing(path: Path, option: str = "--out") -> Iterator[None]:
    """Opening and writing `path` in the block: an OSError becomes InvalidInput naming `option`, `path` and why."""
    try:
        yield
    except OSError as exc:
        raise InvalidInput(option, f"cannot write {path}: {exc.strerror or exc}") from None


def write_output(path: Path, body: str | bytes, option: str = "--out") -> None:
    """Write `body` to the file `option` names (text as UTF-8); InvalidInput naming the option when it cannot."""
    with writing(path, option):
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")


__all__ = ["output_option", "write_output", "writing"]
