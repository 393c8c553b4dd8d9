"""Latency sleepers of one worker process: counted, and capped below the thread count.

A serving worker has SLEEPERS + RESERVE threads (mock_server/serving/worker.py). At
most SLEEPERS sleep in latency faults at once, so RESERVE threads are always left for
other requests; a fault over the cap answers 503 at once instead of taking a thread.
"""

from __future__ import annotations

import threading
import time


class Sleepers:
    """How many latency sleepers a process has, at most `sleepers`."""

    def __init__(self, sleepers: int) -> None:
        self.sleepers = sleepers
        self.sleeping = 0
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> bool:
        """Sleep as one of the sleepers; False (at once) when too many sleep already."""
        with self._lock:
            if self.sleeping >= self.sleepers:
                return False
            self.sleeping += 1
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self.sleeping -= 1
        return True


# Outside `flux2-mock serve` (in-process servers, tests) the same cap applies per process.
DEFAULT_SLEEPERS = 128
current = Sleepers(DEFAULT_SLEEPERS)


def install(sleepers: Sleepers) -> None:
    """Make `sleepers` this process's (the serving worker calls it once, after the fork)."""
    global current
    current = sleepers
