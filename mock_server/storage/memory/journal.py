"""Where the request journal is kept: a list in memory, or a table of the store's SQLite file.

Both keep the newest `max_entries` entries: a long run under load must not grow
the journal (or a report's reading of it) without bound.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from mock_server.domain.journal_entries import JournalEntry, Row, entry_from_row


class MemorySink:
    """A list behind a lock, for one-process runs."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._entries: list[JournalEntry] = []
        self._seq = 0
        self._lock = threading.Lock()

    def write(self, rows: Sequence[Row]) -> None:
        with self._lock:
            for row in rows:
                self._seq += 1
                self._entries.append(entry_from_row((self._seq, *row)))
            if len(self._entries) > self.max_entries:
                del self._entries[:len(self._entries) - self.max_entries]

    def read(self, *, key_ids: Sequence[str] | None = None, task_ids: Sequence[str] = (),
             after_seq: int = 0, limit: int = 100_000) -> list[JournalEntry]:
        wanted, tasks = (None if key_ids is None else set(key_ids)), set(task_ids)
        with self._lock:
            rows = [e for e in self._entries if e.seq > after_seq and (
                wanted is None or e.key_id in wanted or e.task_id in tasks)]
        return rows[:limit]

    def reset(self, *, key_ids: Sequence[str] | None = None) -> None:
        wanted = (None if key_ids is None else set(key_ids))
        with self._lock:
            self._entries = [] if wanted is None else [
                e for e in self._entries if e.key_id not in wanted]


