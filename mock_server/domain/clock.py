"""Clocks: the system clock, and a virtual clock that tests move by hand."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the time in epoch milliseconds."""

    def now_ms(self) -> int: ...


class OffsetClock(Clock, Protocol):
    """A clock the control plane can move forward, and return to real time."""

    def offset_ms(self) -> int:
        """How far this clock runs ahead of real time."""
        ...

    def advance(self, seconds: float) -> int:
        """Move the clock forward for every process and return the new time."""
        ...

    def reset(self) -> None:
        """Return the clock to real time."""
        ...


class SystemClock:
    """The wall clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class VirtualClock:
    """A clock that stands still until a test advances it."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = SystemClock().now_ms() if start_ms is None else start_ms
        self._start = self._now
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> int:
        """Move the clock forward and return the new time; the clock never goes back."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward, got {seconds} s")
        with self._lock:
            self._now += round(seconds * 1000)
            return self._now



    def offset_ms(self) -> int:
        """How far tests have moved this clock since it was made."""
        with self._lock:
            return self._now - self._start

    def reset(self) -> None:
        """Keep the time: a virtual clock has no real time to return to, and never goes back."""
