"""Group commit: concurrent task creations of one process share one write transaction.

A SQLite write transaction costs far more than the rows in it (locks, the WAL
write). The first creator to arrive leads: it takes every creation queued so
far, writes them in one transaction and wakes their threads, then hands the
lead to the first creation queued meanwhile. Each creation returns only after
the commit that holds it: durable before its answer, as one by one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Generic, TypeVar

T = TypeVar("T")


class _Pending(Generic[T]):
    __slots__ = ("error", "event", "finished", "result", "work")

    def __init__(self, work: Callable[[sqlite3.Connection], T]) -> None:
        self.work = work
        self.event = threading.Event()
        self.finished = False
        self.result: T | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Run `work(conn)` calls of many threads in shared transactions, each in a savepoint."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[sqlite3.Connection]],
                 max_batch: int = 64) -> None:
        self.transaction = transaction
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending[T]] = []
        self._busy = False

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Return what `work` returned once its transaction is committed (or raise its error)."""
        item: _Pending[T] = _Pending(work)
        with self._lock:
            self._queue.append(item)
            lead = not self._busy
            self._busy = True
        if not lead:
            item.event.wait()
        if not item.finished:  # woken (or first) to lead
            self._lead()
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        try:
            with self.transaction() as conn:
                for item in batch:
                    conn.execute("SAVEPOINT creation")
                    try:
                        item.result = item.work(conn)
                    except Exception as exc:  # this creation fails alone
                        conn.execute("ROLLBACK TO creation")
                        item.error = exc
                    conn.execute("RELEASE creation")
        except BaseException as exc:  # the commit failed: none of the batch was stored
            for item in batch:
                item.error = item.error or exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for item in batch:
                item.finished = True
                item.event.set()
            with self._lock:
                if self._queue:
                    self._queue[0].event.set()  # not finished: it leads the next batch
                else:
                    self._busy = False
