"""A circuit breaker for a network store: fail fast while it is down, instead of every request waiting out retries.

Closed, every transaction goes to the store. Once the driver reports the store unreachable the circuit opens:
transactions are refused at once, except one trial every `trial_interval_s`, and a successful ping (the `/readyz`
probe) half-opens it so the next transaction is a trial. A trial that succeeds closes it; one that fails keeps it
open. A store in this process (SQLite) has nothing to break and uses none.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

TRIAL_INTERVAL_S = 2.0


class Circuit:
    def __init__(self, trial_interval_s: float = TRIAL_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.trial_interval_s = trial_interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._open = False
        self._half_open = False
        self._last_trial = 0.0

    @property
    def is_open(self) -> bool:
        return self._open

    def allow(self) -> bool:
        """Whether a transaction may go to the store now: always when closed; when open, one trial at a time."""
        with self._lock:
            if not self._open:
                return True
            now = self.clock()
            if self._half_open or now - self._last_trial >= self.trial_interval_s:
                self._half_open = False
                self._last_trial = now
                return True
            return False

    def trip(self) -> None:
        """The store was found unreachable: refuse until a trial succeeds."""
        with self._lock:
            if not self._open:
                self._last_trial = self.clock()
            self._open, self._half_open = True, False

    def half_open(self) -> None:
        """The store answered a ping: let the next transaction through as a trial."""
        with self._lock:
            if self._open:
                self._half_open = True

    def close(self) -> None:
        """A transaction succeeded: the store is back."""
        with self._lock:
            self._open = self._half_open = False
