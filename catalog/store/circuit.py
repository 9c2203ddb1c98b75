"""A circuit breaker for a network store: fail fast while it is down, instead of every request waiting out retries.

Closed, every transaction goes to the store. Once the driver reports the store unreachable the circuit opens:
transactions are refused at once, except one trial every `trial_interval_s`, and a successful ping (the `/readyz`
probe) half-opens it so the next transaction is a trial. A trial that succeeds closes it; one that fails keeps it
open. Only one trial is out at a time: a store that accepts connections but does not answer yet (a server still
starting) would otherwise hold a worker thread per trial until the connection timeout. A store in this process
(SQLite) has nothing to break and uses none.
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
        self._trial_out = False

    @property
    def is_open(self) -> bool:
        return self._open

    def allow(self) -> str | None:
        """Whether a transaction may go to the store now: "closed" when the circuit is, "trial" for the one trial
        an open circuit lets out (call `trial_done` when it ends, however it ends), None when it is refused."""
        with self._lock:
            if not self._open:
                return "closed"
            now = self.clock()
            due = self._half_open or now - self._last_trial >= self.trial_interval_s
            if due and not self._trial_out:
                self._half_open, self._trial_out = False, True
                self._last_trial = now
                return "trial"
            return None

    def trial_done(self) -> None:
        with self._lock:
            self._trial_out = False
            self._last_trial = self.clock()

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
