"""Reload the policy when its files change or the process gets SIGHUP. A bad edit is refused and logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path

from catalog.policy.engine import PolicyEngine, policy_files
from catalog.policy.rules import PolicyError

log = logging.getLogger("catalog.policy")


def fingerprint(policy_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, modification times and sizes of the policy files: a change to any of them changes this."""
    try:
        model, rules = policy_files(policy_dir)
    except (PolicyError, OSError):
        return ()
    stats = []
    for path in [model, *rules]:
        with contextlib.suppress(OSError):
            info = path.stat()
            stats.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(stats)


@contextlib.asynccontextmanager
async def watching(engine: PolicyEngine, interval_s: float) -> AsyncIterator[None]:
    """While the app runs: poll the policy files every `interval_s` and reload on SIGHUP."""
    loop = asyncio.get_running_loop()
    hup_installed = False
    with contextlib.suppress(ValueError, NotImplementedError, RuntimeError):  # not the main thread, or no SIGHUP
        loop.add_signal_handler(signal.SIGHUP, engine.reload)
        hup_installed = True

    async def poll() -> None:
        seen = fingerprint(engine.policy_dir)
        while True:
            await asyncio.sleep(interval_s)
            try:
                current = fingerprint(engine.policy_dir)
                if current != seen:
                    seen = current
                    engine.reload()  # logs and refuses a bad edit; never raises for one
            except Exception as exc:  # the watcher outlives anything: a dead one would never reload again
                log.error("policy watcher: %s: %s; still watching %s", type(exc).__name__, exc, engine.policy_dir)

    task = asyncio.create_task(poll()) if interval_s > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if hup_installed:
            loop.remove_signal_handler(signal.SIGHUP)
    log.debug("policy watcher stopped")
