"""The request journal: every request the mock answered, per API key, secrets masked.

Recording must not slow the API: a request only appends an entry to an in-memory
buffer, and a background thread writes the buffer to the store in batches. The
SQLite variant shares the tasks' file, so every worker process writes one journal.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from mock_server.domain.journal_entries import JournalEntry, Row, entry_row
from mock_server.domain.keys import key_id

if TYPE_CHECKING:
    from mock_server.storage.protocols import JournalSink

log = logging.getLogger(__name__)

MAX_BUFFER = 100_000


class Pending(Protocol):
    """What the request path records: the raw request, turned into a row at flush time."""

    def row(self) -> Row: ...


class Journal:
    """Buffers entries in memory; a background thread flushes them to the sink in batches."""

    def __init__(self, sink: JournalSink, *, flush_interval_s: float = 0.15,
                 buffered: bool = True) -> None:
        self.sink = sink
        self.flush_interval_s = flush_interval_s
        self.buffered = buffered
        self._buffer: deque[JournalEntry | Pending] = deque()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        _OPEN.add(self)

    def record(self, item: JournalEntry | Pending) -> None:
        """Keep one entry (or what becomes one at flush time); cheap enough for every request."""
        if not self.buffered:
            self.sink.write(_rows([item]))
            return
        self._buffer.append(item)  # deque.append is atomic: no lock on the request path
        thread = self._thread
        if thread is None or not thread.is_alive():  # a forked worker inherits no thread
            self._start()

    def flush(self) -> None:
        """Write every buffered entry now (also called before any read)."""
        with self._flush_lock:
            buffer = self._buffer
            batch = [buffer.popleft() for _ in range(len(buffer))]  # others may append meanwhile
            if not batch:
                return
            try:
                self.sink.write(_rows(batch))
            except Exception:
                log.exception("journal flush failed; keeping %d entries for the next try",
                              len(batch))
                buffer.extendleft(reversed(batch[-MAX_BUFFER:]))

    def entries(self, *, api_keys: Sequence[str] | None = None,
                key_ids: Sequence[str] | None = None, task_ids: Sequence[str] = (),
                after_seq: int = 0, limit: int | None = None) -> list[JournalEntry]:
        """Return entries of the given keys (every key when neither is given), oldest first."""
        self.flush()
        ids = None
        if api_keys is not None or key_ids is not None:
            ids = [*(key_id(k) for k in api_keys or ()), *(key_ids or ())]
        return self.sink.read(key_ids=ids, task_ids=task_ids, after_seq=after_seq,
                              limit=2**62 if limit is None else limit)

    def settle(self) -> None:
        """Flush, then wait one flush interval so other worker processes have flushed too."""
        self.flush()
        if self.buffered:
            time.sleep(self.flush_interval_s + 0.05)

    def reset(self, *, api_key: str | None = None) -> None:
        """Forget every entry, or one key's."""
        self.flush()
        self.sink.reset(key_ids=None if api_key is None else [key_id(api_key)])

    def close(self) -> None:
        """Stop the flusher and write what is left."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(2.0)
        self.flush()

    def _start(self) -> None:
        with self._flush_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(target=_flush_loop, name="flux2-mock-journal",
                                            args=(weakref.ref(self), self._stop), daemon=True)
            self._thread.start()


def _flush_loop(ref: weakref.ref[Journal], stop: threading.Event) -> None:
    while True:
        journal = ref()
        if journal is None:
            return
        interval = journal.flush_interval_s
        journal.flush()
        del journal  # hold no reference while waiting: an unused journal can be collected
        if stop.wait(interval):
            return


_OPEN: weakref.WeakSet[Journal] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    # Gunicorn workers leave through sys.exit, so whatever is buffered is written here.
    for journal in list(_OPEN):
        try:
            journal.close()
        except Exception:  # pragma: no cover - best effort at exit
            log.exception("journal flush at exit failed")


def _rows(items: Sequence[JournalEntry | Pending]) -> list[Row]:
    rows = []
    for item in items:
        try:
            rows.append(entry_row(item) if isinstance(item, JournalEntry) else item.row())
        except Exception:  # one odd request must not cost the journal the whole batch
            log.exception("could not journal a request")
    return rows


