"""Reload the policy when its files change or the process gets SIGHUP. A bad edit is refused and logged.

The engine checks its files itself whenever it is used (at most once per interval, see `PolicyEngine.refresh`);
the poll here only makes an idle server notice, and log, a new version without waiting for a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from catalog.policy.engine import PolicyEngine

__all__ = ["watching"]

log = logging.getLogger("catalog.policy")


@contextlib.asynccontextmanager
async def watching(engine: PolicyEngine, interval_s: float) -> AsyncIterator[None]:
    """While the app runs: check the policy files every `interval_s` and reload on SIGHUP."""
    loop = asyncio.get_running_loop()
    hup_installed = False
    with contextlib.suppress(ValueError, NotImplementedError, RuntimeError):  # not the main thread, or no SIGHUP
        loop.add_signal_handler(signal.SIGHUP, engine.reload)
        hup_installed = True

    async def poll() -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await asyncio.to_thread(engine.refresh)  # a reload parses files: off the event loop
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
