"""The shared clock: the wall clock plus an offset every worker process reads and moves."""

from __future__ import annotations

import os
import time

from mock_server.storage.cell import SharedCell


class SharedOffsetClock:
    """The wall clock plus an offset that grows until a reset, shared by every worker process.

    The offset is a SharedCell: an advance made through one worker moves time for
    all of them at once, and reading it costs one load, not a query.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._offset = SharedCell(path)

    def offset_ms(self) -> int:
        """How far this clock runs ahead of the wall clock."""
        return self._offset.get()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self._offset.get()

    def advance(self, seconds: float) -> int:
        """Move the clock forward for every process and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward, got {seconds} s")
        self._offset.add(round(seconds * 1000))
        return self.now_ms()

    def reset(self) -> None:
        """Return the clock to real time for every process."""
        self._offset.add(-self._offset.get())
