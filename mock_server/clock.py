"""Clocks: the system clock, and a virtual clock that tests move by hand."""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
import time
from typing import Protocol

_OFFSET = struct.Struct("<q")


class Clock(Protocol):
    """Anything that tells the time in epoch milliseconds."""

    def now_ms(self) -> int: ...


class SystemClock:
    """The wall clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class VirtualClock:
    """A clock that stands still until a test advances it."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = SystemClock().now_ms() if start_ms is None else start_ms
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


class SharedOffsetClock:
    """The wall clock plus an offset that only grows, shared by every worker process.

    The offset lives in an 8-byte file that each process maps into memory, so an
    advance made through one worker moves time for all of them at once, and
    reading it costs one unaligned load, not a query. Without a path the offset
    is this process's alone.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._path = path
        self._cell: mmap.mmap | bytearray
        if path is None:
            self._cell = bytearray(_OFFSET.size)
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _OFFSET.size:
                os.ftruncate(fd, _OFFSET.size)  # zero-filled: no offset yet
            self._cell = mmap.mmap(fd, _OFFSET.size)  # keeps its own descriptor
        finally:
            os.close(fd)

    def offset_ms(self) -> int:
        """How far this clock runs ahead of the wall clock."""
        offset: int = _OFFSET.unpack_from(self._cell)[0]
        return offset

    def now_ms(self) -> int:
        offset: int = _OFFSET.unpack_from(self._cell)[0]
        return time.time_ns() // 1_000_000 + offset

    def advance(self, seconds: float) -> int:
        """Move the clock forward for every process and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward, got {seconds} s")
        with self._lock:
            if self._path is None:
                self._add(round(seconds * 1000))
            else:
                fd = os.open(self._path, os.O_RDWR)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)  # another process may be advancing too
                    self._add(round(seconds * 1000))
                finally:
                    os.close(fd)  # closing releases the lock
        return self.now_ms()

    def _add(self, ms: int) -> None:
        _OFFSET.pack_into(self._cell, 0, self.offset_ms() + ms)
