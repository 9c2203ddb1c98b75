"""Instructions per checkAccess, counted by valgrind's callgrind: a figure that the machine's noise does not move.

On a shared two-core machine, wall times drift by more than the 10% a change is held to, from one minute to the
next. The number of instructions the process executes for the same work does not: runs agree within 0.1%. The
workload is bench.check_access's (analysts asking for the datasets their agreements cover, each request decided
and recorded, on SQLite). It runs under callgrind with instrumentation off while the landscape loads and warms
up, and on for the checks alone.

With `--against REV`, the same is counted for that git revision, checked out in a temporary worktree, in the same
run: that is the baseline. The revision must have `bench.backends.loaded`, `bench.landscape.generate` and
`bench.check_access.analysts_asking`, as every revision since the checkAccess benchmark does.

Instructions are not time. The kernel's work for the process (writing the WAL, say) and cache misses are not
counted, so read this beside `python -m bench.check_access`, which times the same checks. Needs valgrind
(Debian: `apt install valgrind`).

    python -m bench.instructions --against 056ac24 --size S --checks 100 [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
WARMUP = 50
_COLLECTED = re.compile(r"Collected : ([\d,]+)")


def _wait_for(flag: Path, process: subprocess.Popen[bytes] | None = None, timeout_s: float = 1800) -> None:
    """Until `flag` exists; fails if `process` ends first or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while not flag.exists():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the counted process ended early (exit {process.returncode}); see its log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {flag.name} within {timeout_s:.0f} s")
        time.sleep(0.05)


def _child(size: str, checks: int, flags: Path) -> None:
    """The counted process: imports come from the tree on PYTHONPATH, which may be another revision's."""
    from itertools import cycle

    from bench.backends import loaded
    from bench.check_access import analysts_asking
    from bench.landscape import generate
    from catalog.config import load_settings
    from catalog.services import Services

    land = generate(size)
    with tempfile.TemporaryDirectory() as tmp, loaded("sqlite", land, size, Path(tmp)) as (store, _):
        services = Services(store, load_settings(policy_reload_interval_s=0))
        asks = cycle(analysts_asking(services, land))

        def check() -> None:
            principal, payload, _ = next(asks)
            services.access.check(principal, payload)

        for _ in range(WARMUP):
            check()
        (flags / "ready").touch()
        _wait_for(flags / "go")
        for _ in range(checks):
            check()
        (flags / "done").touch()
        _wait_for(flags / "end")


def count(tree: Path, size: str, checks: int) -> int:
    """Instructions a check takes with the code in `tree`, counted over `checks` checks."""
    with tempfile.TemporaryDirectory() as folder:
        flags, log = Path(folder), Path(folder) / "valgrind.log"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={folder}/callgrind.%p",
            f"--log-file={log}",
            sys.executable,
            str(HERE),
            "--child",
            size,
            str(checks),
            folder,
        ]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(flags / "ready", process)
            _control(process.pid, "on")
            (flags / "go").touch()
            _wait_for(flags / "done", process)
            _control(process.pid, "off")
            (flags / "end").touch()
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        text = log.read_text() if log.exists() else ""
        found = _COLLECTED.search(text)
        if process.returncode != 0 or found is None:
            raise RuntimeError(f"valgrind exited {process.returncode} with no count; its log ends:\n{text[-2000:]}")
        return int(found[1].replace(",", "")) // checks


def _control(pid: int, state: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", state, str(pid)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@contextmanager
def checked_out(revision: str) -> Iterator[Path]:
    """`revision` of this repository in a temporary worktree, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="bench-rev-"))
    tree = folder / "tree"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), revision],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(folder, ignore_errors=True)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of checks, 1 or more; got {text!r}")
    return int(text)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S", choices=["T", "S", "M", "L"])
    parser.add_argument("--checks", type=_positive, default=100, help="checks counted, after 50 not counted")
    parser.add_argument("--against", metavar="REV", help="a git revision counted the same way, as the baseline")
    parser.add_argument("--out", type=Path, help="also write the figure as JSON here")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("needs valgrind and callgrind_control on PATH (Debian: apt install valgrind)")
    from bench.measure import Figure, print_table, write_json

    ours = count(REPO, args.size, args.checks)
    summary = f"{ours / 1e6:.3f} M instructions a check"
    notes: dict[str, object] = {"instructions_per_check": ours, "checks": args.checks}
    if args.against:
        with checked_out(args.against) as tree:
            base = count(tree, args.size, args.checks)
        summary += f"; {args.against}: {base / 1e6:.3f} M ({ours / base - 1:+.1%})"
        notes |= {"baseline_revision": args.against, "baseline_instructions_per_check": base}
    figure = Figure(
        "checkAccess, instructions (callgrind)",
        "sqlite",
        None,
        None,
        None,
        None,
        args.checks,
        baseline=args.against,
        notes=notes,
        summary=summary,
    )
    print_table([figure], f"Instructions per checkAccess, size {args.size}")
    if args.out:
        write_json([figure], args.out, args.size)


if __name__ == "__main__":
    main()
