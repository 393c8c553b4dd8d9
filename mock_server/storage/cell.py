"""A 64-bit integer that every worker process of one server reads and changes.

The value lives in an 8-byte file that each process maps into memory: reading
it is one load, not a query. Changes take an exclusive file lock, so two
processes adding at once both count. Without a path the cell is this
process's alone (a memory store has one process).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading

_CELL = struct.Struct("<q")


class SharedCell:
    """One shared integer, zero until first changed."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._path = path
        self._cell: mmap.mmap | bytearray
        if path is None:
            self._cell = bytearray(_CELL.size)
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _CELL.size:
                os.ftruncate(fd, _CELL.size)  # zero-filled
            self._cell = mmap.mmap(fd, _CELL.size)  # keeps its own descriptor
        finally:
            os.close(fd)

    def get(self) -> int:
        value: int = _CELL.unpack_from(self._cell)[0]
        return value

    def add(self, amount: int) -> int:
        """Add `amount` for every process and return the new value."""
        with self._lock:
            if self._path is None:
                return self._add(amount)
            fd = os.open(self._path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # another process may be adding too
                return self._add(amount)
            finally:
                os.close(fd)  # closing releases the lock

    def _add(self, amount: int) -> int:
        value = self.get() + amount
        _CELL.pack_into(self._cell, 0, value)
        return value
