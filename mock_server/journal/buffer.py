"""The request journal: every request the mock answered, per API key, secrets masked.

Recording must not slow the API: a request only appends an entry to an in-memory
buffer, and a background thread writes the buffer to the store in batches. The
SQLite variant shares the tasks' file, so every worker process writes one journal.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mock_server.storage.memory.journal import JournalSink

log = logging.getLogger(__name__)

_SECRET_HEADER = re.compile(r"auth|token|secret|key|cookie|password", re.IGNORECASE)
_BEARER = re.compile(r"^(\s*\w+\s+)(\S+)(.*)$")
MAX_HEADERS = 40
MAX_VALUE = 200
MAX_BUFFER = 100_000


def key_id(key: str) -> str:
    """Return the short hash that names an API key in the journal and reports."""
    return hashlib.sha256(key.encode()).hexdigest()[:12] if key else ""


def mask_key(key: str) -> str:
    """Return a key mostly hidden: at most a quarter (four characters) shows at each end."""
    if not key:
        return ""
    shown = min(4, len(key) // 4)
    if shown == 0:
        return "…" + key_id(key)[:6]
    return f"{key[:shown]}…{key[-shown:]}"


def bearer_key(authorization: str | None) -> str:
    """Return the credential of an Authorization header ('' when there is none)."""
    if not authorization:
        return ""
    parts = authorization.strip().split(None, 1)
    return parts[-1].strip() if parts else ""


def is_secret_header(name: str) -> bool:
    """Whether a header (or query parameter) of this name may carry a credential."""
    return _SECRET_HEADER.search(name) is not None


def mask_secret(value: str) -> str:
    """Mask a credential, keeping an auth scheme ('Bearer flu…key')."""
    match = _BEARER.match(value)
    return match.group(1) + mask_key(match.group(2)) if match else mask_key(value.strip())


def mask_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return the headers with every credential-looking value masked and long values cut."""
    masked: dict[str, str] = {}
    for name, value in headers:
        if len(masked) >= MAX_HEADERS:
            break
        if is_secret_header(name):
            value = mask_secret(value)
        masked[name] = value if len(value) <= MAX_VALUE else value[:MAX_VALUE] + "…"
    return masked


@dataclass(frozen=True)
class JournalEntry:
    """One request as the mock saw and answered it."""

    time_ms: int
    method: str
    path: str
    status: int
    key_id: str = ""
    key_hint: str = ""
    task_id: str | None = None
    state: str | None = None
    errors: tuple[dict[str, str], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""
    seq: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time_ms, "method": self.method,
                "path": self.path, "query": self.query, "status": self.status,
                "apiKey": self.key_hint, "keyId": self.key_id, "taskId": self.task_id,
                "state": self.state, "errors": list(self.errors), "headers": self.headers}


Row = tuple[Any, ...]  # the journal table's columns after seq, in _COLUMNS order


def entry_row(entry: JournalEntry) -> Row:
    """Return the table row of an entry (its seq left to the sink)."""
    return (entry.time_ms, entry.method, entry.path, entry.query, entry.status, entry.key_id,
            entry.key_hint, entry.task_id, entry.state, json.dumps(list(entry.errors)),
            json.dumps(entry.headers))


def entry_from_row(row: Row) -> JournalEntry:
    """Return the entry of a table row that starts with its seq."""
    (seq, time_ms, method, path, query, status, kid, hint, task_id, state,
     errors_json, headers_json) = row
    return JournalEntry(time_ms, method, path, status, kid, hint, task_id, state,
                        tuple(json.loads(errors_json)), json.loads(headers_json), query, seq)


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


def open_journal(store: object, *, flush_ms: int = 150,
                 max_entries: int = 100_000) -> Journal:
    """Return the journal beside a task store: in its SQLite file, or in memory."""
    from mock_server.storage.memory.journal import MemorySink, SQLiteSink
    from mock_server.storage.sqlite.tasks import SQLiteStore

    if not isinstance(store, SQLiteStore):
        return Journal(MemorySink(max_entries), buffered=False)
    return Journal(SQLiteSink(store, max_entries), flush_interval_s=flush_ms / 1000)
